#!/usr/bin/env bash
# Runs the AI tests with training on LibTorch (`--features torch`: burn's tch
# backend). Installs LibTorch from the PyPI `torch` wheel that tch 0.22 (used
# by burn-tch 0.22) expects, PyTorch 2.9.0, into a venv under /var/tmp.
#
# Measured facts: the x86-64 wheel's libtorch_cpu.so needs libcudart.so.12 and
# libcupti.so.12 even for CPU work, so the CUDA runtime and CUPTI wheels are
# installed too, pinned to 12.8.90 for torch 2.9.0. The torch wheel is ~900 MB.
#
# Usage: scripts/test-torch.sh [extra test filter, default: ai]
set -euo pipefail

TORCH_VERSION=2.9.0
CUDA_WHEELS_VERSION=12.8.90
VENV=${QIMING_TORCH_VENV:-/var/tmp/qiming-torch-venv}
FILTER=${1:-ai}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet \
    "torch==$TORCH_VERSION" \
    "nvidia-cuda-runtime-cu12==$CUDA_WHEELS_VERSION" \
    "nvidia-cuda-cupti-cu12==$CUDA_WHEELS_VERSION"

SITE=$("$VENV/bin/python" -c 'import site; print(site.getsitepackages()[0])')
TORCH_LIB="$SITE/torch/lib"
NVIDIA_LIBS="$SITE/nvidia/cuda_runtime/lib:$SITE/nvidia/cuda_cupti/lib"

# torch-sys finds LibTorch through the venv's Python (LIBTORCH_USE_PYTORCH),
# so no separate download happens at build time.
export PATH="$VENV/bin:$PATH"
export LIBTORCH_USE_PYTORCH=1
export LD_LIBRARY_PATH="$TORCH_LIB:$NVIDIA_LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

"$VENV/bin/python" -c 'import torch; print("PyTorch", torch.__version__, "from", torch.__file__)'

cd "$ROOT"
# The unit tests of the AI crate, then the integration tests (training,
# determinism, model files, burn-vs-ours agreement) with the LibTorch backend.
cargo test -p qiming-ai --features torch
cargo test -p qiming --features torch --test all -- "$FILTER"
