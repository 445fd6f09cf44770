"""What the trainer's inputs are: the integer bandit, or a context set with held-out contexts.

A task numbers its contexts 0..M-1: the first `train_size` are trained on, each split in `splits`
is a range of them evaluated on its own. `keys(x)` is what the reward sees of contexts x (the
integer bandit: x itself; a context set: their labels) and `features(x)` what the network reads
through a fixed first layer; the integer bandit's `onehot` and `embedding` encodings are lookups
in the policy's own weights instead (`encoding` names the path the policy takes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from trainable.contexts import load_contexts, split
from trainable.policy import feature_dim, features

TRAIN, HELDOUT = "train", "heldout"
FEATURES = "features"  # a context set's path through the policy: its feature vectors


@dataclass(frozen=True)
class IntegerBandit:
    """Context i is input i, encoded as `encoding`, with reward key i (the forum's bandit)."""

    n: int
    encoding: str

    @property
    def name(self) -> str:
        return str(self.n)

    @property
    def num_actions(self) -> int:
        return self.n

    @property
    def num_contexts(self) -> int:
        return self.n

    @property
    def train_size(self) -> int:
        return self.n

    @property
    def splits(self) -> dict[str, tuple[int, int]]:
        return {TRAIN: (0, self.n)}

    @property
    def feature_dim(self) -> int:
        return feature_dim(self.encoding, self.n)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Fixed features of inputs x (...,): (..., d)."""
        return features(x, encoding=self.encoding, n=self.n)

    def keys(self, x: torch.Tensor) -> torch.Tensor:
        return x


class ContextTask:
    """A context set's training contexts (0..train_size-1) then its held-out ones, on `device`."""

    encoding = FEATURES

    def __init__(self, spec: str, *, holdout: float, device: torch.device):
        contexts = load_contexts(spec)
        parts = split(contexts, holdout)
        order = torch.from_numpy(np.concatenate([parts.train, parts.heldout]))
        self.name = spec
        self.num_actions = contexts.num_actions
        self.train_size = len(parts.train)
        self.num_contexts = len(order)
        self.splits = {TRAIN: (0, self.train_size), HELDOUT: (self.train_size, self.num_contexts)}
        self.table = contexts.features[order].to(device)  # (M, d)
        self.labels = contexts.labels[order].to(device)  # (M,)

    @property
    def feature_dim(self) -> int:
        return self.table.shape[1]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Feature vectors of contexts x (...,): (..., d)."""
        return F.embedding(x, self.table)

    def keys(self, x: torch.Tensor) -> torch.Tensor:
        """Labels of contexts x (...,)."""
        return self.labels[x]


def make_task(config, device: torch.device) -> IntegerBandit | ContextTask:
    """The task of a TrainConfig: its context set, else the integer bandit at n (ValueError for
    bad contexts)."""
    if config.contexts is None:
        return IntegerBandit(config.n, config.encoding)
    return ContextTask(config.contexts, holdout=config.holdout, device=device)
