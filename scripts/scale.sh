#!/usr/bin/env bash
# The evidence behind the trainer's default lr and entropy bonus at each n (docs/FINDINGS.md,
# "Scale in n"): one study per n in the defaults' family (one-hot inputs, GRPO advantages, lr
# annealed linearly to 0), searching lr, the entropy bonus, batch size, hidden units and group
# size, then `banditune scale` over them. About 30 minutes on a 2-core CPU. Writes results/scale-n*/
# (ignored by git) and docs/scale/.
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
