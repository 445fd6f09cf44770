"""Context sets: feature vectors with labels, loaded, checked and split before training.

A context set is `(features, labels)`: a floating tensor (M, d) and an int64 tensor (M,) with
labels in 0..A-1 (A actions = the largest label + 1). The reward sees a context's label where the
integer bandit's reward sees x. Built in: `digits`, scikit-learn's bundled 8x8 handwritten digits
(1797 images, 64 pixel features scaled to [0, 1], labels 0-9). A user's own:
`package.module:function`, called with no arguments (imported, so run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from contract.errors import BadValue
from trainable.imports import import_function

DIGITS = "digits"
ALLOWED = "digits or package.module:function returning (features (M, d) float, labels (M,) int64)"
SPLIT_SEED = 0  # the stratified train / held-out split's seed, recorded with the results


@dataclass(frozen=True)
class ContextSet:
    """Checked contexts: `features` (M, d) float32, `labels` (M,) int64 in 0..A-1."""

    spec: str
    features: torch.Tensor
    labels: torch.Tensor

    @property
    def num_actions(self) -> int:
        return int(self.labels.max()) + 1


@dataclass(frozen=True)
class Split:
    """Positions of the training (M_train,) and held-out (M_heldout,) contexts in a ContextSet."""

    train: np.ndarray
    heldout: np.ndarray


def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 8x8 digits: pixels (1797, 64) in [0, 1] (the 0-16 counts / 16), labels (1797,)."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return torch.from_numpy(x / 16.0).float(), torch.from_numpy(y).long()


def load_contexts(spec: str) -> ContextSet:
    """The context set `spec`, checked. Bad input: BadValue naming it."""
    fn = digits if spec == DIGITS else import_function(spec, option="contexts", allowed=ALLOWED)
    try:
        out = fn()
    except Exception as error:  # any failure of user code while it is checked
        raise BadValue("contexts", spec, problem=f"raised {type(error).__name__}: {error}") from None
    return check_contexts(spec, out)


def check_contexts(spec: str, out) -> ContextSet:
    """`out` = (features, labels) as ContextSet, or BadValue naming what is wrong."""

    def bad(what: str, expected: str = ALLOWED):
        return BadValue("contexts", spec, expected, problem=what)

    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise bad(f"returned {type(out).__name__}, not a pair (features, labels)")
    features, labels = out
    if not isinstance(features, torch.Tensor) or not features.is_floating_point() or features.dim() != 2:
        raise bad(f"features are {_describe(features)}")
    if not isinstance(labels, torch.Tensor) or labels.dtype != torch.int64 or labels.dim() != 1:
        raise bad(f"labels are {_describe(labels)}")
    if labels.shape[0] != features.shape[0]:
        raise bad(f"{features.shape[0]} feature rows but {labels.shape[0]} labels")
    if features.shape[0] == 0 or features.shape[1] == 0:
        raise bad(f"features of shape {tuple(features.shape)} are empty")
    finite = torch.isfinite(features)
    if not finite.all():
        row, col = (int(i) for i in (~finite).nonzero()[0])
        raise bad(f"features hold {features[row, col].item()} at row {row}, column {col}", "finite features")
    if labels.min() < 0:
        in_range = "labels in 0..A-1 (A actions = the largest label + 1)"
        raise bad(f"label {int(labels.min())} is out of range", in_range)
    classes = int(labels.unique().numel())
    if classes < 2:
        raise bad(f"labels hold {classes} class", "at least 2")
    return ContextSet(spec, features.detach().cpu().float().contiguous(), labels.detach().cpu())


def split(contexts: ContextSet, holdout: float) -> Split:
    """A stratified split (scikit-learn, seed SPLIT_SEED) holding out a share `holdout` of the
    contexts; BadValue when the classes are too small for it."""
    from sklearn.model_selection import train_test_split

    labels = contexts.labels.numpy()
    try:
        train, heldout = train_test_split(
            np.arange(labels.size), test_size=holdout, stratify=labels, random_state=SPLIT_SEED
        )
    except ValueError as error:
        raise BadValue(
            "holdout",
            holdout,
            "every class to have a context on each side",
            problem=f"cannot split contexts={contexts.spec!r} by class ({str(error).splitlines()[0]})",
        ) from None
    return Split(train=train, heldout=heldout)


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"
