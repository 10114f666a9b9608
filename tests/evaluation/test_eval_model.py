"""The model engine path of the evaluation, with a scripted backend in place of a model.

Every run here is real: the tiny benchmark's tasks are written to scratch folders, the
explain pipeline traces them in pytest child processes, the model source turns the
scripted answers into candidates and the sandbox validation decides which are verified.
"""

import threading

import pytest

from eval_helpers import EXPECTED_CORRECT, REFERENCE_MARKER, ScriptedBackend, write_tiny_benchmark
from tracefix.server.evaluation.engines import (WITH_TRACE, WITHOUT_TRACE, EngineSettings,
                                                model_options, model_sources)
from tracefix.server.evaluation.passk import mean_pass_at_k
from tracefix.server.evaluation.report import render_report, summarize
from tracefix.server.evaluation.run import EvalOptions, _budget_cut, evaluate, record_path
from tracefix.server.evaluation.tasks import load_tasks

SAMPLES = 4


@pytest.fixture(scope="module")
def ablation_run(tmp_path_factory):
    """Run both tiny tasks with and without the trace, 4 scripted samples each."""
    base = tmp_path_factory.mktemp("model-eval")
    tasks = load_tasks("quixbugs", write_tiny_benchmark(base / "bench"))
    backend = ScriptedBackend()
    settings = model_options("scripted", "", samples=SAMPLES, temperature=0.8)
    options = EvalOptions(benchmark="quixbugs", engine="model", variants=(WITH_TRACE, WITHOUT_TRACE),
                          samples=SAMPLES, temperature=0.8, model="scripted",
                          limits=EngineSettings(budget=120.0, workers=2))
    out = base / "out"
    records = evaluate(tasks, options, out, sources_for=model_sources(backend, settings), jobs=2)
    return records, options, backend, out


def test_model_samples_counted_per_task(ablation_run):
    records, _, _, _ = ablation_run
    by_task = {r["task"]: r for r in records}
    assert sorted(by_task) == ["absolute", "clamp"]
    for (task, with_trace), correct in EXPECTED_CORRECT.items():
        result = by_task[task]["variants"][WITH_TRACE if with_trace else WITHOUT_TRACE]
        assert result["n"] == SAMPLES, (task, with_trace)
        assert result["c"] == correct, (task, with_trace, result)
        assert result["test_failed"] is True


def test_model_sample_rows_name_verified(ablation_run):
    records, _, _, _ = ablation_run
    clamp = next(r for r in records if r["task"] == "clamp")["variants"][WITH_TRACE]
    rows = {row["sample"]: row for row in clamp["samples"]}
    assert [rows[i]["verified"] for i in range(SAMPLES)] == [True, True, False, False]
    assert [rows[i]["proposed"] for i in range(SAMPLES)] == [True, True, True, False]
    assert rows[3]["reason"]  # why sample 4 gave no candidate
    # Samples 1 and 2 wrote the same text: one candidate, validated once, credited twice.
    assert clamp["candidates"] == 2
    assert clamp["verified"] == 1
    assert clamp["fixed"] is True


def test_model_ablation_reaches_prompt(ablation_run):
    _, _, backend, _ = ablation_run
    seen = sorted((task, with_trace) for task, with_trace, _ in backend.requests)
    assert seen == [("absolute", False), ("absolute", True), ("clamp", False), ("clamp", True)]
    for _, _, request in backend.requests:
        assert request.n == SAMPLES
        assert request.temperature == 0.8


def test_model_pass_at_k_totals(ablation_run):
    records, _, _, _ = ablation_run
    with_trace = summarize(records, WITH_TRACE, [1, 2, 4])
    # clamp c=2, absolute c=1 of n=4: pass@1 = (2/4 + 1/4) / 2, pass@2 = (5/6 + 1/2) / 2.
    assert with_trace["pass_at"]["1"] == pytest.approx(0.375)
    assert with_trace["pass_at"]["2"] == pytest.approx((5 / 6 + 0.5) / 2)
    assert with_trace["pass_at"]["4"] == pytest.approx(1.0)
    assert with_trace["fixed"] == 2
    without = summarize(records, WITHOUT_TRACE, [1, 2])
    # clamp c=1, absolute c=0: pass@1 = (1/4 + 0) / 2, pass@2 = (1/2 + 0) / 2.
    assert without["pass_at"]["1"] == pytest.approx(0.125)
    assert without["pass_at"]["2"] == pytest.approx(0.25)
    assert without["fixed"] == 1
    assert mean_pass_at_k([(4, 2), (4, 1)], 2) == pytest.approx(with_trace["pass_at"]["2"])


def test_model_report_shows_both_variants(ablation_run):
    records, options, _, _ = ablation_run
    report = render_report(records, options, [1, 2, 10], command="tracefix eval ...",
                           ablation_requested=True)
    assert "| with trace | 2 | 2 | 2 (100.0%) | 37.5% | 66.7% |" in report
    assert "| without trace | 2 | 2 | 1 (50.0%) | 12.5% | 25.0% |" in report
    assert "## Per task: with trace" in report
    assert "## Per task: without trace" in report
    assert "pass@10 left out" in report


def test_model_records_never_hold_reference(ablation_run):
    _, _, _, out = ablation_run
    for task in ("clamp", "absolute"):
        text = record_path(out, task).read_text(encoding="utf-8")
        assert REFERENCE_MARKER not in text
        assert '"complete": true' in text


def test_model_report_in_japanese(ablation_run):
    records, options, _, _ = ablation_run
    japanese = EvalOptions(**{**options.__dict__, "locale": "ja"})
    report = render_report(records, japanese, [1, 2], command="tracefix eval ...",
                           ablation_requested=True)
    assert "# 修正率の評価: quixbugs (2 タスク)" in report
    assert "トレースあり" in report
    assert "トレースなし" in report


def test_model_timeout_is_recorded(tmp_path):
    tasks = load_tasks("quixbugs", write_tiny_benchmark(tmp_path / "bench"))[:1]
    backend = ScriptedBackend()
    settings = model_options("scripted", "", samples=SAMPLES, temperature=0.8)
    options = EvalOptions(benchmark="quixbugs", engine="model", variants=(WITH_TRACE,),
                          samples=SAMPLES, limits=EngineSettings(budget=0.05))
    records = evaluate(tasks, options, tmp_path / "out",
                       sources_for=model_sources(backend, settings), stop=threading.Event())
    result = records[0]["variants"][WITH_TRACE]
    assert result["status"] == "timeout"
    assert result["c"] == 0
    assert records[0]["complete"] is True


def test_crashing_task_is_recorded_not_fatal(tmp_path):
    tasks = load_tasks("quixbugs", write_tiny_benchmark(tmp_path / "bench"))

    calls: list[str] = []

    def crash_first(variant, cancel):
        """Raise on the first task's run, then let the pipeline use the built-in search."""
        calls.append(variant)
        if len(calls) == 1:
            raise RuntimeError("source exploded")
        return None

    options = EvalOptions(benchmark="quixbugs", engine="builtin", variants=("builtin",),
                          limits=EngineSettings(budget=120.0, workers=2))
    records = evaluate(tasks, options, tmp_path / "out", sources_for=crash_first, jobs=1)
    crashed, fixed = records  # tasks run in order with one job: absolute, then clamp
    assert crashed["variants"]["builtin"]["status"] == "crashed"
    assert "RuntimeError: source exploded" in crashed["variants"]["builtin"]["error"]
    assert crashed["complete"] is False
    assert fixed["variants"]["builtin"]["status"] == "fixed"
    assert fixed["complete"] is True
    assert record_path(tmp_path / "out", "absolute").exists()


@pytest.mark.parametrize("untried,fixed,variant,past_deadline,expected", [
    (3, False, "builtin", True, True),  # the budget left 3 candidates unvalidated
    (3, True, "builtin", True, False),  # stopped after its first verified fix, on purpose
    (0, False, "builtin", True, False),  # every candidate was validated
    (3, False, "builtin", False, False),
    (2, True, WITH_TRACE, True, True),  # the model engine validates every candidate
])
def test_budget_cut_flag(untried, fixed, variant, past_deadline, expected):
    result = {"untried": untried, "fixed": fixed}
    assert _budget_cut(result, variant, past_deadline) is expected
