"""Policy networks other than the built-in `mlp`: any nn.Module, all seeds trained as one model.

`--policy NAME` names `mlp2` (two hidden ReLU layers) or user code, `package.module:function` or
`path/to/file.py:function`, called as `function(feature_dim=d, num_actions=A, hidden=h)` and
returning an nn.Module that maps features (B, d) to logits (B, A). The built-in `mlp` is
trainable.trainer's hand-batched BatchedPolicy and never comes here.

`ModulePolicy` builds one copy per seed, each under the default generator seeded with that seed
(so a seed's weights are the same whether it trains alone or beside others), stacks their weights
with a leading seed dimension (torch.func.stack_module_state) and runs all copies as one model
(torch.func.functional_call under vmap: PyTorch's model-ensembling recipe). The features are the
task's encoding of its inputs: one-hot vectors for `onehot`, a learned per-seed table of
EMBEDDING_DIM for `embedding` (as mlp's), the fixed features of the others, a context set's
vectors. The `value` baseline's head is a linear layer on those features (one-hot: a learned
value per input). `output_init` and a fourier `action_encoding` shape mlp's output layer and are
refused for any other policy (trainable.config).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from trainable.encodings import EMBEDDING_DIM
from trainable.imports import import_function

ALLOWED = "mlp, mlp2, package.module:function or path/to/file.py:function"
CHECK_BATCH = 4  # inputs in the forward pass that checks a policy before training


def mlp2(*, feature_dim: int, num_actions: int, hidden: int) -> nn.Module:
    """Two hidden ReLU layers of `hidden` units."""
    return nn.Sequential(
        nn.Linear(feature_dim, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_actions),
    )


BUILT_IN = {"mlp2": mlp2}


def resolve_policy(spec: str):
    """The function that builds policy `spec` (ValueError naming the value when it cannot be
    imported or is not a callable)."""
    if spec in BUILT_IN:
        return BUILT_IN[spec]
    return import_function(spec, option="policy", allowed=ALLOWED, files=True)


def build_one(spec: str, factory, *, seed: int, feature_dim: int, num_actions: int, hidden: int) -> nn.Module:
    """One copy of the policy, built under the default generator seeded with `seed`; ValueError
    unless it is an nn.Module with parameters."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = factory(feature_dim=feature_dim, num_actions=num_actions, hidden=hidden)
    if not isinstance(module, nn.Module):
        raise ValueError(
            f"policy={spec!r} returned a {type(module).__name__}; expected a torch.nn.Module"
            " mapping features (B, feature_dim) to logits (B, num_actions)"
        )
    if not any(True for _ in module.parameters()):
        raise ValueError(
            f"policy={spec!r} returned a module with no parameters; expected a trainable nn.Module"
        )
    return module


def check_output(spec: str, logits, *, batch: int, num_actions: int) -> None:
    """ValueError unless `logits` are finite float32 of shape (batch, num_actions)."""
    expected = f"float32 logits of shape ({batch}, {num_actions}) for features of shape ({batch}, d)"
    if not isinstance(logits, torch.Tensor):
        raise ValueError(
            f"policy={spec!r} returned a {type(logits).__name__} from forward; expected {expected}"
        )
    if tuple(logits.shape) != (batch, num_actions) or logits.dtype != torch.float32:
        shown = f"{logits.dtype} logits of shape {tuple(logits.shape)}"
        raise ValueError(f"policy={spec!r} returned {shown}; expected {expected}")
    if not torch.isfinite(logits).all():
        raise ValueError(
            f"policy={spec!r} returned non-finite logits at initialisation; expected finite logits"
        )


class ModulePolicy(nn.Module):
    """S copies of a user's (or mlp2's) module, one per seed, as one batched model: inputs x
    (S, B) -> logits (S, B, A) and, for the value baseline, values (S, B)."""

    def __init__(self, config, task, device: torch.device):
        super().__init__()
        self.task, self.encoding = task, task.encoding
        n, a, num_seeds = task.num_contexts, task.num_actions, len(config.seeds)
        d = EMBEDDING_DIM if self.encoding == "embedding" else task.feature_dim
        factory = resolve_policy(config.policy)
        copies = [
            build_one(config.policy, factory, seed=s, feature_dim=d, num_actions=a, hidden=config.hidden)
            for s in config.seeds
        ]
        extra = [self._extra_one(s, n, d, config.baseline == "value") for s in config.seeds]
        self._check_one(config.policy, copies[0], extra[0], num_actions=a, device=device)
        params, buffers = stack_module_state(copies)
        self.names, self.buffer_names = list(params), list(buffers)
        self.weights = nn.ParameterList([nn.Parameter(params[k].detach().to(device)) for k in self.names])
        for i, k in enumerate(self.buffer_names):
            self.register_buffer(f"buffer{i}", buffers[k].to(device))
        self.base = [copies[0].to("meta")]  # a list: the skeleton's meta weights are not the model's
        for name in extra[0]:
            self.register_parameter(name, nn.Parameter(torch.stack([e[name] for e in extra]).to(device)))
        self._call = vmap(self._one)
        self._check_batched(config.policy, num_seeds, device)

    def _extra_one(self, seed: int, n: int, d: int, value_head: bool) -> dict:
        """One seed's embedding table and value head, drawn as mlp draws them."""
        g = torch.Generator().manual_seed(seed)
        extra = {}
        if self.encoding == "embedding":
            extra["embed"] = torch.randn(n, EMBEDDING_DIM, generator=g)
        if value_head:
            bound = 1 / math.sqrt(d)
            extra["wv"] = (torch.rand(d, 1, generator=g) * 2 - 1) * bound
            extra["bv"] = (torch.rand(1, generator=g) * 2 - 1) * bound
        return extra

    def _one(self, weights, buffers, feats):
        state = {**dict(zip(self.names, weights)), **dict(zip(self.buffer_names, buffers))}
        return functional_call(self.base[0], state, (feats,))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs x (S, B) -> features (S, B, d)."""
        if self.encoding == "onehot":
            return F.one_hot(x, self.task.num_actions).float()
        if self.encoding == "embedding":
            s, n, d = self.embed.shape
            offsets = torch.arange(s, device=x.device).unsqueeze(1) * n
            return F.embedding(x + offsets, self.embed.reshape(s * n, d))
        return self.task.features(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        feats = self.features(x)
        buffers = [getattr(self, f"buffer{i}") for i in range(len(self.buffer_names))]
        logits = self._call(list(self.weights), buffers, feats)
        value = None
        if hasattr(self, "wv"):  # elementwise, as mlp's head: no seed depends on its neighbours
            value = (feats * self.wv.transpose(1, 2)).sum(-1) + self.bv
        return logits, value

    def _check_one(self, spec, module: nn.Module, extra: dict, *, num_actions: int, device) -> None:
        """One copy's forward pass on a few inputs' features (ValueError for a bad output)."""
        x = torch.arange(min(CHECK_BATCH, self.task.train_size))
        if self.encoding == "onehot":
            feats = F.one_hot(x, self.task.num_actions).float()
        elif self.encoding == "embedding":
            feats = extra["embed"][x]
        else:
            feats = self.task.features(x.to(device)).cpu()
        with torch.no_grad():
            logits = _forward(spec, lambda: module(feats))
        check_output(spec, logits, batch=len(x), num_actions=num_actions)

    def _check_batched(self, spec: str, num_seeds: int, device: torch.device) -> None:
        """Every seed's forward pass at once, as training runs it (ValueError if it cannot run
        under vmap, e.g. with dropout)."""
        x = torch.arange(min(CHECK_BATCH, self.task.train_size), device=device).expand(num_seeds, -1)
        with torch.no_grad():
            _forward(spec, lambda: self(x))


def _forward(spec: str, call):
    """`call()`, its failure named in one line (ValueError)."""
    try:
        return call()
    except Exception as error:  # user code: name its failure in one line
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(
            f"policy={spec!r} failed its forward pass ({type(error).__name__}: {first}); expected a"
            " deterministic module (no dropout) mapping features (B, feature_dim) to logits (B, num_actions)"
        ) from None
