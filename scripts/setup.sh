#!/usr/bin/env bash
# Create .venv and install banditune with the pinned versions of constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
# torch first, from the pinned CPU release (an unpinned torch pulls a multi-GB CUDA build).
.venv/bin/pip install -q torch==2.13.0 -c constraints.txt
.venv/bin/pip install -q -e ".[dev]" -c constraints.txt
