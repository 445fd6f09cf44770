"""The defaults' lr, entropy bonus and sample budget at each n: the rule `scripts/scale.sh` found.

Its evidence is in docs/FINDINGS.md ("Scale in N") and docs/scale/: a sweep of lr at n = 10, 30,
100 and 300, the bonus held at 0.5, 10k samples per input, ranked by the study's own scoring and
fitted by `banditune scale` (docs/scale/lr), then checked at n=1000 (docs/scale/lr-check). The
fastest lr sits next to the lr that leaves inputs stuck on some seeds, so the defaults take half
of it; the bonus sweep at that lr (docs/scale/bonus-at-lr) is flat at about 0.5 from n=30 up.
"""

from __future__ import annotations

from contract.knobs import Knobs

FASTEST_LR = (0.183, -0.465)  # (coef, exponent): fastest lr = coef * n ** exponent, docs/scale/lr/scale.json
LR_MARGIN = 0.5  # the share of the fastest lr the defaults use
ENTROPY_COEF = 0.5  # the initial entropy bonus at every n (annealed over the budget)
SAMPLES_PER_INPUT = 10_000
MIN_SAMPLE_BUDGET, MAX_SAMPLE_BUDGET = 200_000, 10_000_000

# A context set has no n: its defaults were measured on digits (0.976-0.980 held out at 1M samples).
CONTEXTS_LR = 3e-3
CONTEXTS_ENTROPY_COEF = 0.4
CONTEXTS_SAMPLE_BUDGET = 1_000_000
# A study's default budget is shorter on purpose: a search ranks configs, it need not finish them.
CONTEXTS_STUDY_BUDGET = 300_000  # the defaults pass 0.95 held out on digits by it


def default_lr(n: int) -> float:
    """The defaults' initial lr at `n` (annealed over the budget): half the fastest lr there."""
    coef, exponent = FASTEST_LR
    return LR_MARGIN * coef * n**exponent


def default_sample_budget(n: int) -> int:
    """Samples per seed the defaults get at `n`: 10k per input, between 200k and 10M."""
    return int(min(max(MIN_SAMPLE_BUDGET, SAMPLES_PER_INPUT * n), MAX_SAMPLE_BUDGET))


DEFAULT_HOLDOUT = Knobs.holdout  # share of a context set held out of training (contract.knobs)


def study_sample_budget(n: int) -> int:
    """A study's default samples per seed at `n`: 3000·n and at least 30k (30k at n=10, 300k at
    n=100). Configs worth publishing pass 0.99 well inside it: the trainer's defaults reach
    1.0 by about 300k at n=100 and the first study's winners passed 0.95 by 100-250k."""
    return max(30_000, 3_000 * n)
