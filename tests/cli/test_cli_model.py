"""`tracefix explain --model` and `--endpoint` in a subprocess, on QuixBugs `sqrt`.

The built-in engine finds no fix for `sqrt`; the verified fix here must come from the
model. Local path: a **scripted replay model** (tests/scripted_replay.py, a stand-in
for a real model, named as such) loaded with `from_pretrained` and run through
transformers' `generate`. Remote path: the local OpenAI-compatible test server
(tests/openai_server.py, standing in for vLLM) on 127.0.0.1 streams the same answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from benchdata import QUIXBUGS
from model_answers import SQRT_ANSWER
from openai_server import FakeOpenAIServer, Reply

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow,
              pytest.mark.skipif(not QUIXBUGS.is_dir(), reason=f"no QuixBugs at {QUIXBUGS}")]



def sqrt_project(tmp_path):
    project = tmp_path / "sqrt"
    project.mkdir()
    shutil.copy(QUIXBUGS / "sqrt" / "buggy.py", project / "sqrt.py")
    shutil.copy(QUIXBUGS / "sqrt" / "test_sqrt.py", project)
    return project


def tracefix(root, *args, extra_env=None):
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "", "OMP_NUM_THREADS": "1",
           "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
           "XDG_CACHE_HOME": str(root.parent / "cache"), "HF_HOME": str(root.parent / "hf"),
           **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "tracefix.server.cli", "explain", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=280)


def test_local_model_fix_verified(tmp_path):
    pytest.importorskip("transformers")
    from tiny_model import build_scripted_model

    model = build_scripted_model(str(tmp_path / "replay-model"), SQRT_ANSWER)
    project = sqrt_project(tmp_path)
    result = tracefix(project, "test_sqrt.py", "--model", model, "--trust-remote-code",
                      "--device", "cpu", "--samples", "2", "--no-trace", "--budget", "60")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "## Reasoning of replay-model (answer 1)" in out
    assert SQRT_ANSWER.strip() in out
    assert "## Answers of replay-model (2)" in out
    assert "1. verified fix: 7/7 tests pass" in out
    assert "2. verified fix: 7/7 tests pass" in out
    assert "+    while abs(x - approx * approx) > epsilon:" in out
    # Validation never writes into the workspace.
    assert "approx * approx" not in (project / "sqrt.py").read_text()


def test_endpoint_fix_verified_key_secret(tmp_path):
    project = sqrt_project(tmp_path)
    key = "sk-tracefix-test-0123456789"
    pieces = [SQRT_ANSWER[i:i + 40] for i in range(0, len(SQRT_ANSWER), 40)]
    with FakeOpenAIServer(api_key=key) as server:
        server.reply_for = lambda body: Reply(content=pieces)
        result = tracefix(project, "test_sqrt.py", "--endpoint", server.base_url, "--samples", "3",
                          "--no-builtin", "--json", "--budget", "60", "-vv",
                          extra_env={"TRACEFIX_API_KEY": key})
        requests = server.chat_requests()
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(requests) == 3
    prompt = requests[0].body["messages"][-1]["content"]
    assert "def sqrt(x, epsilon):" in prompt
    assert "# (" in prompt  # the inline trace is in the prompt
    assert key not in result.stderr
    assert key not in result.stdout
    report = json.loads(result.stdout)
    (model,) = report["model"]
    assert model["model"] == "test-model"
    assert [a["verified"] for a in model["answers"]] == [True, True, True]
    assert all(c["source"] == "model:test-model" for c in report["candidates"])


def test_unloadable_model_reported(tmp_path):
    project = sqrt_project(tmp_path)
    result = tracefix(project, "test_sqrt.py", "--model", str(tmp_path / "no-such-model"),
                      "--no-trace", "--budget", "15", "--max-candidates", "10")
    assert result.returncode == 1, result.stderr[-3000:]  # no verified fix, but an explanation
    assert "There is no folder at" in result.stdout
    assert "no-such-model" in result.stdout
    assert "## Diagnosis" in result.stdout or "Diagnosis" in result.stdout


def test_unverified_fixes_on_request(tmp_path):
    project = sqrt_project(tmp_path)
    # A wrong fix written for this test: a different first guess keeps the bug.
    wrong = ("Starting closer should help.\n\n```python\ndef sqrt(x, epsilon):\n"
             "    approx = x / 3\n    while abs(x - approx) > epsilon:\n"
             "        approx = 0.5 * (approx + x / approx)\n    return approx\n```\n")
    with FakeOpenAIServer() as server:
        server.reply_for = lambda body: Reply(content=[wrong])
        hidden = tracefix(project, "test_sqrt.py", "--endpoint", server.base_url, "--samples", "1",
                          "--no-builtin", "--no-trace", "--budget", "60")
        shown = tracefix(project, "test_sqrt.py", "--endpoint", server.base_url, "--samples", "1",
                         "--no-builtin", "--no-trace", "--budget", "60", "--show-unverified")
    assert hidden.returncode == 1, hidden.stderr[-3000:]
    assert "1. fix failed validation:" in hidden.stdout
    assert "UNVERIFIED" not in hidden.stdout
    assert shown.returncode == 1, shown.stderr[-3000:]
    assert "### UNVERIFIED: test-model (answer 1): rewrites `sqrt`" in shown.stdout
    assert "+    approx = x / 3" in shown.stdout
