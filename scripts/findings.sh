#!/usr/bin/env bash
# The full study behind docs/FINDINGS.md: search, confirmation on fresh seeds, diagnosis, report.
# About 45 minutes on a 2-core CPU. Writes results/findings/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
export RAY_USAGE_STATS_ENABLED=0
B=.venv/bin/banditune
$B study --name findings --n 10 100 --trials 120 --num-seeds 5 \
    --sample-budget 10=25k,100=600k --reports 12
$B analyze results/findings
$B confirm results/findings --top 5 --num-seeds 10
$B diagnose --study findings --n 10 100 --num-seeds 3
$B analyze results/findings
