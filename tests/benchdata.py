"""Where the shared benchmark tasks are: `../shared/benchmarks` beside the checkout.

`TRACEFIX_BENCHMARKS` overrides the folder, for a checkout placed elsewhere.
"""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(os.environ.get("TRACEFIX_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))
QUIXBUGS = BENCHMARKS / "quixbugs"
HUMANEVALFIX = BENCHMARKS / "humanevalfix"
