#!/usr/bin/env bash
# Run tracefix's main job on the bundled example: trace the failing test, explain it,
# and print the fixes that passed the tests. No model and no download are needed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../.ci/setup-venv"
cd "$here/moving_average"
# Exit status 0 means a verified fix was found; the project files are left untouched.
exec "$here/../.venv/bin/tracefix" explain test_stats.py::test_moving_average_of_four_values "$@"
