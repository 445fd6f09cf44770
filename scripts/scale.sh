#!/usr/bin/env bash
# The evidence behind the trainer's default lr and entropy bonus at each n (docs/FINDINGS.md,
# "Scale in n"): one study per n in the defaults' family (one-hot inputs, GRPO advantages, lr
# annealed linearly to 0, a constant entropy bonus), searching lr, the entropy bonus, batch size,
# hidden units and group size, then `banditune scale` over them; then the sweeps below, which
# anneal both the lr and the entropy bonus along a cosine. About 2 hours on a 2-core CPU (the
# lr sweep at N=1000 is one of them). Writes results/ (ignored by git) and docs/scale/.
set -euo pipefail
cd "$(dirname "$0")/.."
export RAY_USAGE_STATS_ENABLED=0
B=.venv/bin/banditune
for n in 10 30 100 300; do
  $B study --name "scale-n$n" --n "$n" --no-warm-start --seed 0 --trials 40 \
    --encodings onehot --baselines grpo --reward-scales range --lr-schedules linear
done
$B scale results/scale-n10 results/scale-n30 results/scale-n100 results/scale-n300 --out docs/scale
# The same with the lr and the entropy bonus annealed along a cosine (the defaults' schedules);
# 30 trials each, all of them TPE's random startup, so every n sees the same 30 configs: a sweep.
for n in 10 30 100 300; do
  $B study --name "scalec-n$n" --n "$n" --no-warm-start --seed 0 --trials 30 \
    --encodings onehot --baselines grpo --reward-scales range --lr-schedules cosine \
    --entropy-schedules cosine
done
$B scale results/scalec-n10 results/scalec-n30 results/scalec-n100 results/scalec-n300 \
  --out docs/scale/annealed
# The rule the defaults apply: a sweep (fifo: every config trains its whole budget) of the same
# 30 random (lr, entropy bonus) points at every n, in the defaults' family with their batch,
# width and group size, at 10k samples per input: what n=1000 gets under the 10M budget cap.
for n in 10 30 100 300; do
  $B study --name "rule-n$n" --n "$n" --no-warm-start --seed 0 --trials 30 --num-seeds 3 \
    --sample-budget "$((10000 * n))" --scheduler fifo \
    --encodings onehot --baselines grpo --reward-scales range --lr-schedules cosine \
    --entropy-schedules cosine --lr-range 1e-3 1e-1 --entropy-range 0.1 2 \
    --batch-sizes 512 --hidden-sizes 128 --group-sizes 8
done
$B scale results/rule-n10 results/rule-n30 results/rule-n100 results/rule-n300 --out docs/scale/rule
# The rule the defaults apply (trainable/defaults.py): a sweep of lr alone, the bonus held at 0.5,
# at 10k samples per input (the defaults' budget), 50 reports per trial so that the area under the
# curve ranks speed. The same 16 lr points at N = 10 to 300, fitted (docs/scale/lr); then N=1000,
# held out as the check (6 points in [1e-3, 3e-2]: larger ones leave inputs stuck there, and each
# trial costs about 11 minutes), and the fit over all five N (docs/scale/lr-check).
sweep() { # name n trials lr_low lr_high bonus_low bonus_high
  $B study --name "$1-n$2" --n "$2" --no-warm-start --seed 0 --trials "$3" --num-seeds 3 --reports 50 \
    --sample-budget "$((10000 * $2))" --scheduler fifo \
    --encodings onehot --baselines grpo --reward-scales range --lr-schedules cosine \
    --entropy-schedules cosine --lr-range "$4" "$5" --entropy-range "$6" "$7" \
    --batch-sizes 512 --hidden-sizes 128 --group-sizes 8
}
for n in 10 30 100 300; do sweep lr "$n" 16 1e-3 3e-1 0.5 0.5; done
sweep lr 1000 6 1e-3 3e-2 0.5 0.5
$B scale results/lr-n10 results/lr-n30 results/lr-n100 results/lr-n300 --top 3 --out docs/scale/lr
$B scale results/lr-n10 results/lr-n30 results/lr-n100 results/lr-n300 results/lr-n1000 --top 3 \
  --out docs/scale/lr-check
# The bonus at the defaults' lr: 12 random bonus values in [0.1, 2], the same at every N, the lr
# fixed at trainable.defaults.default_lr(N), otherwise as the lr sweep (docs/scale/bonus-at-lr).
for n in 10 30 100 300; do
  lr=$(.venv/bin/python -c "from trainable.defaults import default_lr; print(default_lr($n))")
  sweep bonus "$n" 12 "$lr" "$lr" 0.1 2
done
$B scale results/bonus-n10 results/bonus-n30 results/bonus-n100 results/bonus-n300 --top 3 \
  --out docs/scale/bonus-at-lr
