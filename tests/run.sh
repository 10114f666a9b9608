#!/usr/bin/env bash
# Run the whole test suite: set up .venv, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/setup-venv
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
