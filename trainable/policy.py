"""The policy: how inputs reach the network, the built-in `mlp` and any other network.

Every policy maps inputs x (S, B) to logits (S, B, A) and, for the `value` baseline, values
(S, B): S seeds trained as one model, each seed's weights drawn from its own generator.

- Encodings: `onehot` and `embedding` are table lookups in the policy's own weights (a one-hot
  times a matrix is a row of it); `scalar`, `scalar01`, `binary` and `fourier` are fixed
  features, computed here (the task reads them through `features`).
- `mlp` (BatchedPolicy): encoding -> Linear(d, hidden) -> ReLU -> Linear(hidden, A), batched by
  hand. `output_init` scales its output layer's first draw; `action_encoding` `fourier` adds a
  part smooth in the action; its logits are floored for long runs (LOGIT_FLOOR).
- Any other network (ModulePolicy): `--policy` names `mlp2` (two hidden ReLU layers) or user
  code, `package.module:function` or `path/to/file.py:function`, called as
  `function(feature_dim=d, num_actions=A, hidden=h)` and returning an nn.Module that maps
  features (B, d) to logits (B, A) (examples/my_policy.py).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from contract.errors import BadValue
from contract.knobs import BY_NAME as KNOBS
from trainable.imports import import_function

EMBEDDING_DIM = 16
ALLOWED = KNOBS["policy"].allows
CHECK_BATCH = 4  # inputs in the forward pass that checks a policy before training
_MAPS = "mapping features (B, feature_dim) to logits (B, num_actions)"  # what a policy module does
# Long runs (docs/benchmarks.md, "Long runs"): once every answer is right, each update still pushes
# the right action up and the sampled wrong ones down, Adam's steps do not shrink with the gradient,
# and the output weights (w2 and the fourier part) keep growing, so the logits keep spreading. An
# action more than 87 below its input's best then has a probability that underflows: its exp takes
# MKL's slow path (flushing or not), and the denormal floats it makes slow the products that
# follow. Every logit more than LOGIT_FLOOR below its input's largest is raised to that depth (no
# action's probability falls below about e^-40 / n, far below what a float32 sampler draws: its
# cumulative sums resolve 6e-8), and the trainer flushes denormal floats to zero on the thread
# that trains and on torch's worker threads started after it (flush_denormal).
# benchmarks/long_horizon.py turns both off (_LONG_RUN_GUARDS) to measure the "before".
LOGIT_FLOOR = 40.0
_LONG_RUN_GUARDS = True


def make_policy(config, task, device: torch.device) -> nn.Module:
    """`config.policy` on `task` for every seed of `config` (BadValue for a bad --policy)."""
    policy = BatchedPolicy if config.policy == "mlp" else ModulePolicy
    return policy(config, task, device)


def flush_denormal() -> None:
    """Denormal floats to zero (inputs and results) on this thread, and on the torch worker threads
    started after it, unless _LONG_RUN_GUARDS is off (then they are kept, PyTorch's default)."""
    torch.set_flush_denormal(_LONG_RUN_GUARDS)


# --- encodings ------------------------------------------------------------------------------
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
    raise BadValue("encoding", encoding, problem="has no features")


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
    raise BadValue("encoding", encoding, problem="is a lookup, not features")


def _num_bits(n: int) -> int:
    return max(1, math.ceil(math.log2(n)))


# --- the built-in mlp -----------------------------------------------------------------------
def scale_output(params: dict[str, torch.Tensor], scale: float) -> dict[str, torch.Tensor]:
    """`params` with the output layer (w2, b2) multiplied by `scale` (`output_init`): 1 keeps
    nn.Linear's uniform(+-1/sqrt(hidden)); 0 starts every input at the uniform policy (all
    logits 0), so no action starts out favoured and exploration begins at its widest."""
    if scale == 1.0:
        return params
    return {**params, "w2": params["w2"] * scale, "b2": params["b2"] * scale}


def action_features(action_encoding: str, n: int, device: torch.device) -> torch.Tensor | None:
    """Features Phi (n, k) of the actions 0..n-1 (`action_encoding`), or None for `onehot`.

    `onehot` gives every action its own weights, the forum's Linear(hidden, n). `fourier` adds a
    part that is smooth in the action: the output weights are W + U Phi^T, with Phi the fourier
    features of the actions, so a step that raises one action's logit raises its neighbours' too.
    That suits a reward that changes smoothly with the action, as -|x - a| does, and not actions
    without an order (a context set's classes). U starts at zero, so the policy starts where
    `onehot`'s does."""
    if action_encoding == "onehot":
        return None
    return features(torch.arange(n, device=device), encoding=action_encoding, n=n)


def output_weights(w2: torch.Tensor, smooth: torch.Tensor | None, phi: torch.Tensor | None) -> torch.Tensor:
    """Per-seed output weights (S, hidden, n): w2 plus smooth (S, hidden, k) times Phi^T."""
    return w2 if phi is None else w2 + smooth @ phi.T


class BatchedPolicy(nn.Module):
    """S independent policies encoding -> Linear(d, hidden) -> ReLU -> Linear(hidden, A).

    The task gives the encoding path, d and A. Initialised as PyTorch's nn.Linear (uniform in
    +-1/sqrt(fan_in)), one seed at a time, the output layer then scaled by `output_init`. With an
    `action_encoding` other than onehot, the output layer gains a part smooth in the action
    (action_features), starting at zero.
    """

    def __init__(self, config, task, device: torch.device):
        super().__init__()
        self.task, self.encoding = task, task.encoding
        m, d, h, a = task.num_contexts, task.feature_dim, config.hidden, task.num_actions
        value_head = config.baseline == "value"
        per_seed = [
            scale_output(self._init_one(seed, m, d, h, a, value_head), config.output_init)
            for seed in config.seeds
        ]
        for name in per_seed[0]:
            stacked = torch.stack([p[name] for p in per_seed]).to(device)
            self.register_parameter(name, nn.Parameter(stacked))
        self.action_features = action_features(config.action_encoding, a, device)
        smooth = None
        if self.action_features is not None:
            k = self.action_features.shape[1]
            smooth = nn.Parameter(torch.zeros(len(config.seeds), h, k, device=device))
        self.register_parameter("smooth", smooth)

    def _init_one(self, seed: int, m: int, d: int, h: int, a: int, value_head: bool) -> dict:
        """One seed's weights; an `embedding` table has a row per context (m)."""
        g = torch.Generator().manual_seed(seed)

        def uniform(*shape, fan_in):
            return (torch.rand(*shape, generator=g) * 2 - 1) / math.sqrt(fan_in)

        params = {}
        if self.encoding == "embedding":
            params["embed"] = torch.randn(m, EMBEDDING_DIM, generator=g)
        params["w1"], params["b1"] = uniform(d, h, fan_in=d), uniform(h, fan_in=d)
        params["w2"], params["b2"] = uniform(h, a, fan_in=h), uniform(a, fan_in=h)
        if value_head:
            params["wv"], params["bv"] = uniform(h, 1, fan_in=h), uniform(1, fan_in=h)
        return params

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Inputs x (S, B) -> logits (S, B, A) and, with a value head, values (S, B)."""
        if self.encoding == "onehot":
            pre = _lookup(self.w1, x) + self.b1.unsqueeze(1)
        else:
            feats = _lookup(self.embed, x) if self.encoding == "embedding" else self.task.features(x)
            pre = torch.baddbmm(self.b1.unsqueeze(1), feats, self.w1)
        hidden = torch.relu(pre)
        w2 = output_weights(self.w2, self.smooth, self.action_features)
        logits = torch.baddbmm(self.b2.unsqueeze(1), hidden, w2)
        if _LONG_RUN_GUARDS:
            with torch.no_grad():  # in place: a raised logit's gradient is its softmax's, ~e^-40
                logits.clamp_(min=logits.amax(-1, keepdim=True) - LOGIT_FLOOR)
        value = None
        if hasattr(self, "wv"):
            # elementwise, not a matrix product: with one seed, bmm takes a matrix-vector path
            # whose sums round differently, and a seed must not depend on its neighbours
            value = (hidden * self.wv.transpose(1, 2)).sum(-1) + self.bv
        return logits, value


def _lookup(table: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Rows x (S, B) of a per-seed table (S, n, d) -> (S, B, d)."""
    s, n, d = table.shape
    offsets = torch.arange(s, device=x.device).unsqueeze(1) * n
    return F.embedding(x + offsets, table.reshape(s * n, d))


# --- any other network ----------------------------------------------------------------------
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
    """The function that builds policy `spec` (BadValue naming the value when it cannot be
    imported or is not a callable)."""
    if spec in BUILT_IN:
        return BUILT_IN[spec]
    return import_function(spec, option="policy", allowed=ALLOWED, files=True)


def build_one(spec: str, factory, *, seed: int, feature_dim: int, num_actions: int, hidden: int) -> nn.Module:
    """One copy of the policy, built under the default generator seeded with `seed`; BadValue
    unless it builds an nn.Module with parameters."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            module = factory(feature_dim=feature_dim, num_actions=num_actions, hidden=hidden)
        except Exception as error:  # any failure of user code while it is checked
            raise BadValue("policy", spec, problem=f"raised {type(error).__name__}: {error}") from None
    if not isinstance(module, nn.Module):
        shown = f"returned a {type(module).__name__}"
        raise BadValue("policy", spec, f"a torch.nn.Module {_MAPS}", problem=shown)
    if not any(True for _ in module.parameters()):
        shown = "returned a module with no parameters"
        raise BadValue("policy", spec, "a trainable nn.Module", problem=shown)
    return module


def check_output(spec: str, logits, *, batch: int, num_actions: int) -> None:
    """BadValue unless `logits` are finite float32 of shape (batch, num_actions)."""
    expected = f"float32 logits of shape ({batch}, {num_actions}) for features of shape ({batch}, d)"
    if not isinstance(logits, torch.Tensor):
        raise BadValue("policy", spec, expected, problem=f"returned a {type(logits).__name__} from forward")
    if tuple(logits.shape) != (batch, num_actions) or logits.dtype != torch.float32:
        shown = f"{logits.dtype} logits of shape {tuple(logits.shape)}"
        raise BadValue("policy", spec, expected, problem=f"returned {shown}")
    if not torch.isfinite(logits).all():
        raise BadValue(
            "policy", spec, "finite logits", problem="returned non-finite logits at initialisation"
        )


class ModulePolicy(nn.Module):
    """S copies of a user's (or mlp2's) module, one per seed, as one batched model.

    Each copy is built under the default generator seeded with its seed (so a seed's weights are
    the same whether it trains alone or beside others); their weights are stacked with a leading
    seed dimension (torch.func.stack_module_state) and run as one model (functional_call under
    vmap: PyTorch's model-ensembling recipe). The features are the task's encoding of its inputs:
    one-hot vectors for `onehot`, a learned per-seed table of EMBEDDING_DIM for `embedding` (as
    mlp's), the fixed features of the others, a context set's vectors. The `value` baseline's
    head is a linear layer on those features (one-hot: a learned value per input). `output_init`
    and a fourier `action_encoding` shape mlp's output layer and are refused here
    (trainable.config)."""

    def __init__(self, config, task, device: torch.device):
        super().__init__()
        self.task, self.encoding = task, task.encoding
        m, a, num_seeds = task.num_contexts, task.num_actions, len(config.seeds)
        d = EMBEDDING_DIM if self.encoding == "embedding" else task.feature_dim
        factory = resolve_policy(config.policy)
        copies = [
            build_one(config.policy, factory, seed=s, feature_dim=d, num_actions=a, hidden=config.hidden)
            for s in config.seeds
        ]
        extra = [self._extra_one(s, m, d, config.baseline == "value") for s in config.seeds]
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

    def _extra_one(self, seed: int, m: int, d: int, value_head: bool) -> dict:
        """One seed's embedding table (one row per context) and value head, drawn as mlp draws
        them."""
        g = torch.Generator().manual_seed(seed)
        extra = {}
        if self.encoding == "embedding":
            extra["embed"] = torch.randn(m, EMBEDDING_DIM, generator=g)
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
            return _lookup(self.embed, x)
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
        """One copy's forward pass on a few inputs' features (BadValue for a bad output)."""
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
        """Every seed's forward pass at once, as training runs it (BadValue if it cannot run
        under vmap, e.g. with dropout)."""
        x = torch.arange(min(CHECK_BATCH, self.task.train_size), device=device).expand(num_seeds, -1)
        with torch.no_grad():
            _forward(spec, lambda: self(x))


def _forward(spec: str, call):
    """`call()`, its failure named in one line (BadValue)."""
    try:
        return call()
    except Exception as error:  # user code: name its failure in one line
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise BadValue(
            "policy",
            spec,
            f"a deterministic module (no dropout) {_MAPS}",
            problem=f"failed its forward pass ({type(error).__name__}: {first})",
        ) from None
