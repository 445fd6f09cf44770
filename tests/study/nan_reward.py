"""A user reward for the tests: -|x - a|, except NaN in training batches of 512 samples per
seed with 3 seeds (1536 pairs), so only the configs with batch_size 512 fail (among them the
study's first trial, the trainer's defaults). `expected` (the
noiseless reward the trainer sweeps for the optimum and the metrics) is always finite."""

import torch


def fn(x: torch.Tensor, a: torch.Tensor, n: int) -> torch.Tensor:
    r = -(x - a).abs().float()
    return torch.full_like(r, float("nan")) if x.numel() == 3 * 512 else r


def _expected(x: torch.Tensor, a: torch.Tensor, n: int) -> torch.Tensor:
    return -(x - a).abs().float()


fn.expected = _expected
