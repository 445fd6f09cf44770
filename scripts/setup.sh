#!/usr/bin/env bash
# Create .venv and install banditune with the pinned versions of constraints.txt; with --dry-run,
# only say what it would download.
# Needs Python 3.10 or newer with its venv module (Debian/Ubuntu: apt install python3-venv);
# PYTHON=python3.11 bash scripts/setup.sh picks another interpreter.
# Download sizes below: pip's --dry-run --report for Linux x86-64, Python 3.11, torch 2.13.0.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
CPU_INDEX=https://download.pytorch.org/whl/cpu
DRY_RUN=false
case "${1:-}" in
    --dry-run) DRY_RUN=true ;;
    "") ;;
    *) echo "setup.sh: $1 is not an option; expected --dry-run or nothing" >&2; exit 2 ;;
esac

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    version=$("$PYTHON" -V 2>/dev/null) || version="not a working Python"
    echo "setup.sh: $PYTHON is $version; banditune needs Python 3.10 or newer (PYTHON=python3.11 bash scripts/setup.sh)" >&2
    exit 2
fi
if ! $DRY_RUN; then
    "$PYTHON" -m venv .venv || {
        echo "setup.sh: '$PYTHON -m venv' failed; install Python's venv module (Debian/Ubuntu: apt install python3-venv)" >&2
        exit 2
    }
fi
# Runs a pip command, or only names it with --dry-run.
pip_install() {
    if $DRY_RUN; then echo "  would run: pip install $*"; else .venv/bin/pip install -q "$@"; fi
}

# torch first, so that the pinned 2.13.0 is the build this machine needs.
if command -v nvidia-smi >/dev/null 2>&1; then
    echo "setup.sh: NVIDIA GPU (nvidia-smi found): downloading torch 2.13.0 from PyPI, the CUDA build:"
    echo "  torch 527 MB + NVIDIA CUDA libraries and triton 2.2 GB (nvidia-cublas, nvidia-cudnn-cu13, ...) = 2.7 GB"
    pip_install torch==2.13.0 -c constraints.txt
elif "$PYTHON" -c "import urllib.request; urllib.request.urlopen('$CPU_INDEX/torch/', timeout=5)" 2>/dev/null; then
    echo "setup.sh: no NVIDIA GPU (no nvidia-smi): downloading torch 2.13.0+cpu from PyTorch's CPU index, 192 MB"
    pip_install --no-deps --index-url "$CPU_INDEX" torch==2.13.0
else
    echo "setup.sh: no NVIDIA GPU (no nvidia-smi), and PyTorch's CPU index ($CPU_INDEX) did not answer in 5 s:"
    echo "  installing torch==2.13.0 from pip's configured index instead. A CPU build there (a local wheel, as on"
    echo "  banditune's CI) is 192 MB; PyPI's Linux x86-64 wheel is the CUDA build, 2.7 GB with its libraries."
    pip_install torch==2.13.0 -c constraints.txt
fi
echo "setup.sh: downloading banditune's other dependencies from PyPI (ray 79 MB, pyarrow 55 MB, scipy 35 MB, ...: 357 MB with the dev tools)"
pip_install -e ".[dev]" -c constraints.txt
$DRY_RUN || echo "setup.sh: done; .venv/bin/banditune --help"
