""""Explain failure" with a model, end to end through `tracefix serve`.

QuixBugs `sqrt` (the loop compares `x` with `approx` instead of `approx * approx`, so it
returns too early or never) is one the built-in engine cannot fix. The model here is a
**scripted replay model** (tests/scripted_replay.py): a stand-in for a real model, named
as such, that answers every prompt with the text below through transformers' own
`generate`, loaded by the server with `from_pretrained` from a folder the test builds.
The reasoning must stream to the client while it is generated, and the model's fix must
come back as a quick fix only after the server verified it in a sandbox.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_helpers import line_of, open_file, run_tests, start
from model_answers import SQRT_ANSWER
from test_explain import apply_workspace_edit, code_actions, pytest_passes

pytest.importorskip("transformers")
pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

CASE = "test_sqrt.py::test_sqrt[case1]"


@pytest.fixture
def replay_model(tmp_path) -> str:
    from tiny_model import build_scripted_model

    return build_scripted_model(str(tmp_path / "replay-model"), SQRT_ANSWER)


@pytest.mark.asyncio
async def test_model_fix_streamed_and_verified(client: LanguageClient, quixbugs,
                                                               replay_model):
    project = quixbugs("sqrt")
    module, test_file = project / "sqrt.py", project / "test_sqrt.py"
    pieces: list[dict] = []

    @client.feature("tracefix/reasoning")
    def on_reasoning(params) -> None:
        pieces.append({"sample": params.sample, "text": params.text, "model": params.model})

    await start(client, project, options={"model": {
        "model": replay_model, "trustRemoteCode": True, "device": "cpu",
        "samples": 2, "temperature": 0.7, "maxNewTokens": 600}})
    open_file(client, module)
    open_file(client, test_file)
    await run_tests(client, test_file)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.explainFailure", [module.as_uri(), CASE]))
    assert "error" not in result, result

    # Streamed: many pieces per sample, which join into exactly the scripted text.
    for sample in (0, 1):
        text = "".join(p["text"] for p in pieces if p["sample"] == sample)
        assert text == SQRT_ANSWER
    assert len([p for p in pieces if p["sample"] == 0]) > 10
    assert {p["model"] for p in pieces} == {"replay-model"}

    # The report opened before generation ended, and in the end contains the reasoning.
    report = Path(result["report"])
    assert client.shown_documents[0].uri == report.as_uri()
    text = report.read_text(encoding="utf-8")
    assert "Explained by replay-model and the built-in engine" in text
    assert "## Reasoning of replay-model" in text
    assert "compare x with approx * approx" in text
    assert "verified fix" in text
    assert result["model"] == "replay-model"

    # Progress reported the model's work while it ran.
    (reports,) = [r for token, r in client.progress_reports.items() if "explain" in str(token)]
    messages = [r.message or "" for r in reports]
    assert any("Asking replay-model for 2 answer(s)" in m for m in messages)

    # The quick fix names its source and its test result, and fixes the program.
    line = line_of(module, "while abs(x - approx) > epsilon:")
    fixes = [a for a in await code_actions(client, module, line) if a.kind == "quickfix"]
    assert fixes, "no verified quick fix offered"
    best = fixes[0]
    assert best.is_preferred
    assert best.title.startswith("Fix replay-model (answer 1): rewrites `sqrt`")
    assert "(passes 7/7 tests)" in best.title
    apply_workspace_edit(best.edit)
    assert "approx * approx" in module.read_text(encoding="utf-8")
    run = pytest_passes(project)
    assert run.returncode == 0, run.stdout[-2000:]


@pytest.mark.asyncio
async def test_bad_model_falls_back_to_builtin(client: LanguageClient, quixbugs,
                                                                  tmp_path):
    project = quixbugs("gcd")
    module, test_file = project / "gcd.py", project / "test_gcd.py"
    missing = tmp_path / "no-such-model"
    await start(client, project, options={"model": {"model": str(missing), "device": "cpu"}})
    open_file(client, module)
    open_file(client, test_file)
    await run_tests(client, test_file)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.explainFailure", [module.as_uri(), "test_gcd.py::test_gcd[case2]"]))
    assert "error" not in result, result
    text = Path(result["report"]).read_text(encoding="utf-8")
    # The model failed to load: the report states it, and the built-in fix is still offered.
    assert "no-such-model" in text
    assert "There is no folder" in text
    assert result["fixes"]
    assert all(f["source"] == "builtin" for f in result["fixes"])


@pytest.mark.asyncio
async def test_cancel_progress_stops_generation(client: LanguageClient, quixbugs, tmp_path):
    """A random tiny Llama would write 20,000 tokens; cancelling stops it within a few."""
    from tiny_model import build_tiny_llama

    model = build_tiny_llama(str(tmp_path / "tiny-llama"))
    project = quixbugs("sqrt")
    module, test_file = project / "sqrt.py", project / "test_sqrt.py"
    pieces: list[str] = []
    cancelled = asyncio.Event()

    @client.feature("tracefix/reasoning")
    def on_reasoning(params) -> None:
        pieces.append(params.text)
        if len(pieces) == 5:
            (token,) = [t for t in client.progress_reports if "explain" in str(t)]
            client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token))
            cancelled.set()

    await start(client, project, options={"model": {
        "model": model, "device": "cpu", "samples": 3, "temperature": 1.0, "seed": 3,
        "maxNewTokens": 20000, "contextWindow": 32768}})
    open_file(client, module)
    open_file(client, test_file)
    await run_tests(client, test_file)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.explainFailure", [module.as_uri(), CASE]))
    assert cancelled.is_set()
    assert "cancelled" in result.get("error", "").lower(), result
    # Generation stopped soon after the cancel: far fewer pieces than tokens allowed, and
    # the samples after the first never started.
    assert len(pieces) < 2000
    (reports,) = [r for token, r in client.progress_reports.items() if "explain" in str(token)]
    assert reports[-1].kind == "end"
