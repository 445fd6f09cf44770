"""Context sets for the tests, named as users name theirs: `tests.synthetic_contexts:blobs`.

`blobs` is learnable (4 well-separated Gaussian blobs in 8 dimensions, 240 contexts); the others
break one rule each of trainable.contexts.check_contexts.
"""

import torch


def blobs(m: int = 240, d: int = 8, classes: int = 4):
    """Features (m, d) float32 around one centre per class, labels (m,) int64 in 0..classes-1."""
    g = torch.Generator().manual_seed(12)
    centres = torch.randn(classes, d, generator=g) * 3
    labels = torch.arange(m) % classes
    return centres[labels] + torch.randn(m, d, generator=g), labels


def nan_features():
    x, y = blobs()
    x[5, 2] = float("nan")
    return x, y


def inf_features():
    x, y = blobs()
    x[7, 0] = float("inf")
    return x, y


def flat_features():
    x, y = blobs()
    return x[:, 0], y


def int_features():
    x, y = blobs()
    return x.long(), y


def float_labels():
    x, y = blobs()
    return x, y.float()


def short_labels():
    x, y = blobs()
    return x, y[:-1]


def negative_label():
    x, y = blobs()
    y[3] = -1
    return x, y


def one_class():
    x, y = blobs()
    return x, torch.zeros_like(y)


def a_single_tensor():
    return blobs()[0]


def raises():
    raise FileNotFoundError("features.npy missing")


not_callable = 3
