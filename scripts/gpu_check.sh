#!/usr/bin/env bash
# The CUDA checks in one prepared run: a venv with a CUDA torch, the CUDA tests (tests/test_cuda.py and the
# CUDA test of tests/test_model.py, torch's sync debug mode included), then the CPU-vs-CUDA table of
# scripts/bench/gpu.py (the 6,000-edge DAG, the 50k-edge DAG, the 1,000- and 100,000-topology populations).
#
#   bash scripts/gpu_check.sh                  # everything, each step under its own time limit
#   GPU_CHECK_QUICK=1 bash scripts/gpu_check.sh  # fewer repeats, no 100,000-topology population
#
# The venv (.gpu-venv) sees the system's packages, so a machine whose python3 already holds a CUDA torch
# needs no download; elsewhere pip fetches torch (its Linux wheel on PyPI is the CUDA build). mpnet itself is
# installed without touching the network. Everything printed also goes to gpu_check.log. Exit status: that of
# the tests (the table is printed either way). On a machine without a GPU it stops at once, saying so.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=${GPU_CHECK_LOG:-gpu_check.log}
TEST_LIMIT=${GPU_CHECK_TEST_SECONDS:-240}
BENCH_LIMIT=${GPU_CHECK_BENCH_SECONDS:-300}
exec > >(tee "$LOG") 2>&1
export PYTHONUNBUFFERED=1
start=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }

step "venv with a CUDA torch"
if ! command -v nvidia-smi >/dev/null && [ ! -e /dev/nvidia0 ]; then
    echo "no NVIDIA GPU here (no nvidia-smi, no /dev/nvidia0): nothing to check."
    exit 2
fi
PY=${PYTHON:-python3}
"$PY" -m venv --system-site-packages .gpu-venv || exit 2
. .gpu-venv/bin/activate
if ! python -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
    echo "no CUDA torch visible yet: installing torch from PyPI (the CUDA wheel)"
    python -m pip install --quiet torch || { echo "could not install a CUDA torch"; exit 2; }
fi
python - <<'EOF' || exit 2
import sys, torch
if not torch.cuda.is_available():
    sys.exit("torch.cuda.is_available() is False: no usable GPU here, nothing to check.")
print(f"torch {torch.__version__} (CUDA {torch.version.cuda}), {torch.cuda.device_count()} GPU(s): "
      f"{torch.cuda.get_device_name()}")
EOF
command -v nvidia-smi >/dev/null && nvidia-smi -L

step "mpnet into the venv (no downloads) and its test dependencies"
python -m pip install --quiet --no-deps --no-build-isolation -e . || exit 2
python -c "import torch_geometric, tqdm, pytest, hypothesis" 2>/dev/null || \
    python -m pip install --quiet torch_geometric tqdm pytest hypothesis || exit 2
python -c "import mpnet, torch_geometric; print('mpnet', mpnet.__version__, 'from', mpnet.__file__, \
'; torch_geometric', torch_geometric.__version__)"

step "CUDA tests (limit ${TEST_LIMIT} s)"
timeout "$TEST_LIMIT" python -m pytest -q -p no:cacheprovider tests/test_cuda.py \
    "tests/test_model.py::test_cuda_matches_cpu" -rA
tests=$?
echo "tests exit status: $tests"

step "CPU vs CUDA table (limit ${BENCH_LIMIT} s)"
timeout "$BENCH_LIMIT" python scripts/bench.py gpu ${GPU_CHECK_QUICK:+--quick}
echo "bench exit status: $?"

step "done"
exit "$tests"
