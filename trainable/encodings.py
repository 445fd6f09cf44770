"""Input encodings: how x in 0..n-1 reaches the network.

`onehot` and `embedding` are table lookups (a one-hot times a matrix is a row of it); the others
are fixed features, computed here.
"""

from __future__ import annotations

import math

import torch

EMBEDDING_DIM = 16


def feature_dim(encoding: str, n: int) -> int:
    """Width of the first layer's input for `encoding` at `n`."""
    if encoding in ("scalar", "scalar01"):
        return 1
    if encoding == "onehot":
        return n
    if encoding == "embedding":
        return EMBEDDING_DIM
    if encoding == "fourier":
        return 2 * _num_bits(n)
    if encoding == "binary":
        return _num_bits(n)
    raise ValueError(f"encoding={encoding!r} has no features")


def features(x: torch.Tensor, *, encoding: str, n: int) -> torch.Tensor:
    """Fixed features of inputs `x` (...,) as floats (..., d)."""
    xf = x.float().unsqueeze(-1)
    if encoding == "scalar":
        return xf
    if encoding == "scalar01":
        return xf / (n - 1)
    bits = _num_bits(n)
    if encoding == "binary":
        shifts = torch.arange(bits, device=x.device)
        return ((x.unsqueeze(-1) >> shifts) & 1).float() * 2 - 1
    if encoding == "fourier":
        freqs = 2.0 ** torch.arange(bits, device=x.device) * math.pi / n
        angles = xf * freqs
        return torch.cat([angles.sin(), angles.cos()], dim=-1)
    raise ValueError(f"encoding={encoding!r} is a lookup, not features")


def _num_bits(n: int) -> int:
    return max(1, math.ceil(math.log2(n)))
