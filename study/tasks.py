"""The tasks a command trains on, resolved once for study, diagnose and confirm: the integer
bandit at each n, each context set (loaded, checked and split on the CPU), the held-out share,
the sample budget per task; then the user code (rewards, policies) run once on them.

Every bad value raises contract.errors.BadValue naming its field (`n`, `contexts`, `holdout`,
`sample_budget`: the command line shows `--n`, ...). torch is imported only inside the checks
that run code on the CPU (the command line imports this module to build its options).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contract.errors import check
from contract.schema import integer_task
from study.spec import DEFAULT_NS
from trainable.config import TrainConfig, default_budget, task_fields
from trainable.defaults import DEFAULT_HOLDOUT

_SUFFIX = {"k": 1_000, "m": 1_000_000}
_BUDGET_HELP = (
    "a positive integer (200000, 200k, 3M) or per-task pairs such as 10=200000,100=3000000,digits=1M"
)


@dataclass(frozen=True)
class Tasks:
    """Checked tasks: the integer bandit at each n, then each context set."""

    ns: tuple[int, ...]
    contexts: tuple[str, ...]
    holdout: float
    budgets: dict[str, int]  # samples per seed, by task id
    actions: tuple[int, ...]  # each context set's number of actions

    @property
    def ids(self) -> tuple[str, ...]:
        return (*map(integer_task, self.ns), *self.contexts)

    def check_code(self, *, rewards, policies, encodings) -> None:
        """Sweep each reward at every task's actions; one forward pass of each policy but mlp on
        every task (the integer bandit in each of `encodings`). On the CPU."""
        for reward in rewards:
            check_reward(reward, (*self.ns, *self.actions))
        check_policy(policies, tasks=self.ids, encodings=encodings, holdout=self.holdout)


def resolve_tasks(
    *,
    ns=None,
    contexts=(),
    holdout: float | None = None,
    budget: str | None = None,
    saved: dict[str, int] | None = None,
    study: bool,
) -> Tasks:
    """The tasks of `ns` (None: DEFAULT_NS, or none beside context sets) and `contexts`, with
    `holdout` (None: the trainer's) and the budgets `budget` gives (--sample-budget), else
    `saved` ones for the same tasks, else the defaults (a study's with `study`, else the
    trainer's: trainable.config.default_budget)."""
    contexts = tuple(contexts)
    ns = tuple(ns) if ns is not None else () if contexts else DEFAULT_NS
    holdout = DEFAULT_HOLDOUT if holdout is None else holdout
    for n in ns:
        check(n >= 2, "n", n, "integers >= 2")
    check(len(set(ns)) == len(ns), "n", " ".join(map(str, ns)), "distinct values")
    check(len(set(contexts)) == len(contexts), "contexts", " ".join(contexts), "distinct context sets")
    check(0 < holdout < 1, "holdout", holdout, "a number in (0, 1)")
    ids = (*map(integer_task, ns), *contexts)
    if budget is not None:
        budgets = parse_budget(budget, ids, study=study)
    elif saved and set(saved) == set(ids):
        budgets = dict(saved)
    else:
        budgets = {task: default_budget(task, study=study) for task in ids}
    return Tasks(ns, contexts, holdout, budgets, actions=check_contexts(contexts, holdout))


def parse_budget(text: str, tasks: tuple[str, ...], *, study: bool) -> dict[str, int]:
    """'200k' -> every task; '10=200000,digits=1M' -> those tasks (others keep their default
    budget: a study's with `study`, else the trainer's; trainable.config.default_budget)."""
    budgets = {task: default_budget(task, study=study) for task in tasks}
    text = text.strip()
    if "=" not in text:
        value = parse_count(text)
        check(value is not None, "sample_budget", text, _BUDGET_HELP)
        return dict.fromkeys(tasks, value)
    for part in text.split(","):
        key, sep, raw = part.rpartition("=")
        value = parse_count(raw)
        check(bool(sep) and bool(key.strip()) and value is not None, "sample_budget", text, _BUDGET_HELP)
        check(
            key.strip() in tasks,
            "sample_budget",
            text,
            f"budgets only for the study's tasks ({', '.join(tasks)})",
        )
        budgets[key.strip()] = value
    return budgets


def parse_count(text: str) -> int | None:
    """'3M' -> 3000000, '300k' -> 300000; None unless a positive whole count."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not match:
        return None
    value = float(match.group(1)) * _SUFFIX.get(match.group(2).lower(), 1)
    return int(value) if value >= 1 and value == int(value) else None


def check_contexts(contexts, holdout: float) -> tuple[int, ...]:
    """Load, check and split every context set on the CPU; their numbers of actions."""
    import torch

    from trainable.tasks import ContextTask

    cpu = torch.device("cpu")
    return tuple(ContextTask(spec, holdout=holdout, device=cpu).num_actions for spec in contexts)


def check_reward(reward: str, ns) -> None:
    """Import the reward and sweep it at every n (a context set's: its actions), on the CPU."""
    import torch

    from trainable.rewards import build_reward_table

    for n in ns:
        build_reward_table(reward, n, torch.device("cpu"))


def check_policy(policies, *, tasks, encodings, holdout: float) -> None:
    """Import every policy but mlp and run one forward pass of it on every task (the integer
    bandit in each of `encodings`), on the CPU; BadValue naming `--policy`."""
    import torch

    from trainable.policy import ModulePolicy
    from trainable.tasks import make_task

    cpu = torch.device("cpu")
    for policy in policies:
        if policy == "mlp":
            continue
        for task in tasks:
            for encoding in encodings if task.isdigit() else ("onehot",):
                fields = task_fields(task, holdout=holdout)
                config = TrainConfig(**fields, encoding=encoding, policy=policy, device="cpu")
                ModulePolicy(config, make_task(config, cpu), cpu)
