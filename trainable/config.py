"""`TrainConfig`: every knob of the trainer, validated on construction; presets; config files;
a config's values on one task (`run_config`) and a task's default sample budget."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from contract.errors import BadValue, check
from contract.knobs import GROUP_BASELINES, KNOBS, Knobs, is_number
from trainable import defaults


@dataclass(frozen=True)
class TrainConfig(Knobs):
    """One REINFORCE run on the bandit x -> a in 0..n-1, for every seed in `seeds`; with
    `contexts`, on that context set instead (n and encoding unused), a share `holdout` held out.
    Its fields are the knobs of contract.knobs (type, default, help, check), checked here.

    `lr`, `entropy_coef`, `sample_budget` and `eval_every` of None resolve to values that suit
    `n` (trainable.defaults). The defaults learn from n=10 to 1000 whatever the reward's scale
    or offset, and abs or squared at n=100: one-hot inputs, GRPO advantages (z-scored within 8 samples
    of one input, so any positive affine change of the reward leaves them unchanged), an lr that
    falls with n, an entropy bonus of 0.5 in those unit-std units, and both annealed to 0 over
    the budget along half a cosine.
    """

    def __post_init__(self):
        integer = self.contexts is None
        if self.lr is None and (not integer or (is_number(self.n, integer=True) and self.n >= 2)):
            lr = defaults.default_lr(self.n) if integer else defaults.CONTEXTS_LR
            object.__setattr__(self, "lr", lr)
        if self.entropy_coef is None:
            bonus = defaults.ENTROPY_COEF if integer else defaults.CONTEXTS_ENTROPY_COEF
            object.__setattr__(self, "entropy_coef", bonus)
        _validate(self)
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        if self.sample_budget is None:
            budget = defaults.default_sample_budget(self.n) if integer else defaults.CONTEXTS_SAMPLE_BUDGET
            object.__setattr__(self, "sample_budget", budget)
        if self.eval_every is None:
            every = max(self.batch_size, self.sample_budget // 50)
            object.__setattr__(self, "eval_every", every)
        if self.minibatch_size is None:
            object.__setattr__(self, "minibatch_size", self.batch_size)
        check(
            self.batch_size % self.minibatch_size == 0,
            "minibatch_size",
            self.minibatch_size,
            f"a divisor of batch_size={self.batch_size}",
        )

    @property
    def uses_groups(self) -> bool:
        return self.baseline in GROUP_BASELINES

    @property
    def samples_per_input(self) -> int:
        """How many actions are sampled for each drawn input (group baselines need several)."""
        return self.group_size if self.uses_groups else 1

    def to_dict(self) -> dict:
        """JSON-ready fields (what `--config FILE` reads back)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        d["seeds"] = list(self.seeds)
        return d

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """A config from fields; lr, entropy_coef, batch_size and sample_budget may be rules in n."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config key(s) {unknown}; allowed: {sorted(known)}")
        return cls(**resolve_rules(values))


# Fields a config file may give as a power law in n, {"coef": c, "exponent": e}: c * n ** e at the
# config's n (the integer fields rounded), so that one file runs at any n.
RULE_FIELDS = ("lr", "entropy_coef", "batch_size", "sample_budget")
_INTEGER_RULES = ("batch_size", "sample_budget")


def resolve_rules(values: dict) -> dict:
    """`values` with each rule of RULE_FIELDS replaced by its value at values' n (default 10)."""
    out = dict(values)
    for name in RULE_FIELDS:
        rule = values.get(name)
        if not isinstance(rule, dict):
            continue
        allowed = 'a number or a rule in n, {"coef": c > 0, "exponent": e}, for the integer bandit'
        check(
            set(rule) == {"coef", "exponent"}
            and is_number(rule["coef"])
            and rule["coef"] > 0
            and is_number(rule["exponent"])
            and values.get("contexts") is None,
            name,
            rule,
            allowed,
        )
        n = values.get("n", TrainConfig.n)
        check(is_number(n, integer=True) and n >= 2, "n", n, "an integer >= 2")
        value = rule["coef"] * n ** rule["exponent"]
        out[name] = round(value) if name in _INTEGER_RULES else value
    return out


# The forum program as fixed in its thread (no discounting across independent samples, one update
# per 50 samples), its failure kept: raw scalar input, no baseline, tiny entropy bonus, Adam 1e-3,
# inputs cycling through 0..n-1.
FORUM = dict(
    encoding="scalar",
    baseline="none",
    reward_scale="raw",
    lr=1e-3,
    lr_schedule="constant",
    entropy_coef=1e-4,
    entropy_schedule="constant",
    batch_size=50,
    hidden=128,
    inputs="cycle",
)
PRESETS: dict[str, dict] = {
    "forum": FORUM,
    # The post as written: returns discounted (gamma 0.99) across the independent samples of an
    # episode, and an optimizer step after every sample.
    "forum-original": {**FORUM, "gamma": 0.99, "minibatch_size": 1},
}


def from_preset(name: str, **overrides) -> TrainConfig:
    """The preset `name` with `overrides` (e.g. n, seeds) applied on top."""
    if name not in PRESETS:
        raise BadValue("preset", name, f"one of {', '.join(PRESETS)}")
    return TrainConfig(**{**PRESETS[name], **overrides})


def read_config_file(path: str | Path) -> dict:
    """The fields in a JSON or YAML config file (not yet validated)."""
    path = Path(path)
    if not path.is_file():
        raise BadValue("--config", str(path), "a JSON or YAML config file", problem="no such file")
    text = path.read_text()
    try:
        values = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (ValueError, yaml.YAMLError) as error:
        reason = str(error).splitlines()[0]
        raise BadValue("--config", str(path), problem=f"not valid JSON or YAML ({reason})") from None
    if not isinstance(values, dict):
        raise BadValue(
            "--config", str(path), "a mapping of config fields", problem=f"holds a {type(values).__name__}"
        )
    return values


# A task is the integer bandit at n ("10") or a context set ("digits", "package.module:function"),
# as contract.schema names them.
def task_fields(task: str, *, holdout: float) -> dict:
    """The TrainConfig fields that make a trainer train on `task` (`holdout`: the share of a
    context set held out)."""
    return {"n": int(task)} if task.isdigit() else {"contexts": task, "holdout": holdout}


def run_config(
    *,
    values: dict,
    task: str,
    holdout: float,
    seeds,
    budget: int,
    reward: str | None = None,
    device: str | None = None,
) -> TrainConfig:
    """`values` (TrainConfig fields but the task's, the seeds and the budget) trained on `task`
    on `seeds` for `budget` samples per seed; `reward` and `device`, where given, replace those
    of `values`. BadValue for a bad config."""
    given = {k: v for k, v in (("reward", reward), ("device", device)) if v is not None}
    run = {**task_fields(task, holdout=holdout), "seeds": tuple(seeds), "sample_budget": budget}
    return TrainConfig(**{**values, **given, **run})


def default_budget(task: str, *, study: bool) -> int:
    """Samples per seed on `task` unless told: the trainer's (what TrainConfig gives), or with
    `study` a study's, shorter on purpose (defaults.study_sample_budget)."""
    if not task.isdigit():
        return defaults.CONTEXTS_STUDY_BUDGET if study else defaults.CONTEXTS_SAMPLE_BUDGET
    rule = defaults.study_sample_budget if study else defaults.default_sample_budget
    return rule(int(task))


def _validate(c: TrainConfig) -> None:
    for knob in KNOBS:
        error = knob.error(getattr(c, knob.name))
        if error:
            raise error
    if c.policy != "mlp":  # knobs of mlp's output layer (trainable.policy)
        for name, default in (("output_init", 1.0), ("action_encoding", "onehot")):
            check(
                getattr(c, name) == default,
                name,
                getattr(c, name),
                f"{default} with policy={c.policy!r} (it shapes the built-in mlp's output layer)",
            )
    if c.baseline in GROUP_BASELINES:
        check(c.group_size >= 2, "group_size", c.group_size, f"an integer >= 2 for baseline {c.baseline}")
        check(
            c.batch_size % c.group_size == 0,
            "batch_size",
            c.batch_size,
            f"a multiple of group_size={c.group_size} for baseline {c.baseline}",
        )
    seeds = c.seeds
    check(
        isinstance(seeds, (list, tuple))
        and len(seeds) > 0
        and all(is_number(s, integer=True) and s >= 0 for s in seeds)
        and len(set(seeds)) == len(seeds),
        "seeds",
        seeds,
        "a non-empty list of distinct integers >= 0",
    )
    if c.device == "cuda":
        import torch

        check(
            torch.cuda.is_available(),
            "device",
            c.device,
            "auto or cpu: torch sees no CUDA device on this machine",
        )
