"""`tracefix eval --engine model` through real transformers, on QuixBugs `sqrt` and `gcd`.

The model is a **scripted replay model** (tests/scripted_replay.py), a stand-in for a
real model, named as such: it answers every prompt with the corrected `sqrt` of
tests/model_answers.py through transformers' own `generate`. So on `sqrt` every sample is verified (c = n) and
on `gcd` none is, which fixes pass@k exactly; with and without the trace alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from benchdata import QUIXBUGS
from model_answers import SQRT_ANSWER

pytest.importorskip("transformers")
pytestmark = [pytest.mark.timeout(300), pytest.mark.slow,
              pytest.mark.skipif(not QUIXBUGS.is_dir(), reason=f"no QuixBugs at {QUIXBUGS}")]



def test_scripted_model_pass_at_k_with_and_without_trace(tmp_path):
    from tiny_model import build_scripted_model

    model = build_scripted_model(str(tmp_path / "replay"), SQRT_ANSWER)
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "tracefix.server.cli", "eval", "--benchmark", "quixbugs",
         "--bench-dir", str(QUIXBUGS), "--tasks", "sqrt,gcd", "--engine", "model",
         "--model", model, "--trust-remote-code", "--device", "cpu", "--samples", "3",
         "--k", "1,3", "--seed", "1", "--max-new-tokens", "800", "--ablation", "--out", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stderr[-3000:]

    summary = json.loads((out / "summary.json").read_text())
    totals = {row["variant"]: row for row in summary["totals"]}
    assert set(totals) == {"trace", "no-trace"}
    for row in totals.values():
        assert row["fixed"] == 1
        assert row["pass_at"] == {"1": 0.5, "3": 0.5}
    sqrt = json.loads((out / "tasks" / "sqrt.json").read_text())["variants"]["trace"]
    assert (sqrt["n"], sqrt["c"]) == (3, 3)
    assert "approx * approx" in sqrt["fix_diff"]
    gcd = json.loads((out / "tasks" / "gcd.json").read_text())["variants"]["trace"]
    assert (gcd["n"], gcd["c"]) == (3, 0)
