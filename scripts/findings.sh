#!/usr/bin/env bash
# The study behind docs/FINDINGS.md: a search with no warm start, its confirmation on 10 fresh
# seeds at the search's budget and at 5 times it, and the report. About 25 minutes on a 2-core
# CPU. Writes results/findings/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
export RAY_USAGE_STATS_ENABLED=0
B=.venv/bin/banditune
$B study --name findings --no-warm-start --seed 0
$B confirm results/findings --top 6 --num-seeds 10 --long-horizon 5
$B analyze results/findings
