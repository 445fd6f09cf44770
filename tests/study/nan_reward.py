"""A user reward for the tests: -|x - a|, except NaN in training batches of 1024 samples per
seed with 3 seeds (3072 pairs), so only the configs with batch_size 1024 fail. `expected` (the
noiseless reward the trainer sweeps for the optimum and the metrics) is always finite."""

import torch


def fn(x: torch.Tensor, a: torch.Tensor, n: int) -> torch.Tensor:
    r = -(x - a).abs().float()
    return torch.full_like(r, float("nan")) if x.numel() == 3 * 1024 else r


def _expected(x: torch.Tensor, a: torch.Tensor, n: int) -> torch.Tensor:
    return -(x - a).abs().float()


fn.expected = _expected
