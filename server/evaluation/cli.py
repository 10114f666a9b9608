"""The `tracefix eval` command: fix rates of an engine on a benchmark, as a markdown report.

Exit status: 0 when the run completed (whatever the fix rate), 2 for invalid input (an
unknown benchmark or engine, a missing folder, an invalid number, `--engine model`
without a model, a model that cannot be loaded), 130 when interrupted. Progress goes to
stderr, one line per finished task; the report goes to stdout and to `OUT/report.md`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..i18n import translate
from .tasks import BENCHMARKS, BENCHMARKS_ENV, TaskError, default_bench_dir, load_tasks, select_tasks

# The engine, the runner and the modules that use them are imported inside the
# functions below, so that building the `tracefix` parser stays fast for every command.

if TYPE_CHECKING:
    from .engines import SourceFactory
    from .run import EvalOptions

logger = logging.getLogger(__name__)

EXIT_DONE = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
BUILTIN = "builtin"
ENGINES = (BUILTIN, "model")
DEFAULT_MODEL_SAMPLES = 10
DEFAULT_TEMPERATURE = 0.8  # the default temperature of GenerationRequest


class InputError(Exception):
    """Invalid command-line input, with the localized message to show."""


def add_eval_parser(subparsers, shared: Callable[[argparse.ArgumentParser, bool], None]) -> None:
    """Add the `eval` subcommand; `shared(parser, top)` adds the options every command takes."""
    parser = subparsers.add_parser(
        "eval", help="measure the fix rate (pass@1, pass@k) on a benchmark",
        description="Run the explain pipeline on every task of a benchmark in scratch "
        "folders and report how many tasks get a verified fix.")
    parser.add_argument("--benchmark", required=True, metavar="NAME",
                        help="benchmark to run: " + " or ".join(BENCHMARKS))
    parser.add_argument("--bench-dir", default=None, metavar="DIR",
                        help=f"folder of the benchmark's tasks (default: ${BENCHMARKS_ENV}/NAME, "
                        "else ../shared/benchmarks/NAME beside the tracefix checkout)")
    parser.add_argument("--tasks", default="", metavar="A,B",
                        help="comma-separated task names to run (default: all)")

    parser.add_argument("--engine", default=BUILTIN, metavar="ENGINE",
                        help="builtin (the built-in repair search, one attempt per task) or "
                        "model (samples from --model or --endpoint); default builtin")
    parser.add_argument("--model", default="", metavar="PATH_OR_ID",
                        help="local model folder or hub id, loaded with transformers (needs the "
                        "hf extra); with --endpoint, the served model's name")
    parser.add_argument("--endpoint", default="", metavar="URL",
                        help="base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1; "
                        "the API key is read from TRACEFIX_API_KEY")
    parser.add_argument("--samples", type=int, default=None, metavar="N",
                        help=f"model samples per task, n of pass@k (default {DEFAULT_MODEL_SAMPLES}; "
                        "the built-in engine always makes one attempt)")
    parser.add_argument("--k", default="1,5,10", metavar="K,K",
                        help="comma-separated k values of pass@k to report (default 1,5,10); "
                        "k above --samples is left out")
    parser.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE, metavar="T",
                        help=f"sampling temperature of the model (default {DEFAULT_TEMPERATURE})")
    parser.add_argument("--max-new-tokens", type=int, default=None, metavar="N",
                        help="longest model answer in tokens (default 1024)")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="make local sampling repeatable (remote servers may ignore it)")
    parser.add_argument("--device", default=None, metavar="DEVICE",
                        help="auto, cpu, cuda, cuda:N or mps (local model; default auto)")
    parser.add_argument("--dtype", default=None, metavar="DTYPE",
                        help="auto, float32, float16 or bfloat16 (local model; default auto)")
    parser.add_argument("--trust-remote-code", action="store_true", default=None,
                        help="let transformers run the model folder's own code")
    parser.add_argument("--few-shot", type=int, default=None, metavar="N",
                        help="worked examples put before each failure in the prompt (default 0)")
    parser.add_argument("--ablation", action="store_true",
                        help="run each task with and without the trace in the model's prompt "
                        "and report both (model engine only)")

    parser.add_argument("--jobs", type=int, default=1, metavar="J",
                        help="tasks run at once (default 1)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="candidate fixes of one task validated at once (default 1)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="folder for per-task JSON records and report.md "
                        "(default: eval-results/BENCHMARK-ENGINE in the current folder)")
    parser.add_argument("--resume", action="store_true",
                        help="skip tasks whose record in --out is complete and was made with "
                        "the same settings")
    parser.add_argument("--budget", type=float, default=180.0, metavar="SECONDS",
                        help="wall time of one task run, tracing and validation included "
                        "(default 180)")
    shared(parser, False)


def run_eval(args: argparse.Namespace) -> int:
    """Run `tracefix eval` with parsed arguments and return the exit status."""
    from .report import render_report
    from .run import Interrupted, evaluate

    locale = args.locale
    try:
        options, ks = _options(args)
        tasks = _tasks(args, options)
        out_dir = _out_dir(args, options)
        interpreter = _interpreter(args)
        sources_for = _sources(args, options)
    except InputError as exc:
        return _fail(str(exc))

    stop = threading.Event()
    try:
        records = evaluate(tasks, options, out_dir, sources_for=sources_for,
                           interpreter=interpreter, jobs=args.jobs, resume=args.resume,
                           on_done=_progress_printer(locale), stop=stop)
    except Interrupted:
        return _fail(translate("eval.error.interrupted", locale, out=str(out_dir)),
                     EXIT_INTERRUPTED)

    report = render_report(records, options, ks, command=_command(args, options),
                           ablation_requested=args.ablation)
    _write_outputs(out_dir, report, records, options, ks)
    sys.stdout.write(report)
    return EXIT_DONE


def _options(args: argparse.Namespace) -> tuple[EvalOptions, list[int]]:
    from .engines import WITH_TRACE, WITHOUT_TRACE, EngineSettings
    from .run import EvalOptions

    locale = args.locale
    t = lambda key, **fields: translate(key, locale, **fields)  # noqa: E731
    if args.benchmark not in BENCHMARKS:
        raise InputError(t("eval.error.unknown_benchmark", benchmark=args.benchmark,
                           choices=", ".join(BENCHMARKS)))
    if args.engine not in ENGINES:
        raise InputError(t("eval.error.unknown_engine", engine=args.engine,
                           choices=", ".join(ENGINES)))
    for option, value, minimum in (("--jobs", args.jobs, 1), ("--workers", args.workers, 1),
                                   ("--samples", args.samples, 1),
                                   ("--temperature", args.temperature, 0)):
        if value is not None and value < minimum:
            raise InputError(t("eval.error.invalid_number", option=option, value=value,
                               minimum=minimum))
    if args.budget <= 0:
        raise InputError(t("eval.error.invalid_budget", value=args.budget))
    ks = _parse_ks(args.k, locale)

    if args.engine == BUILTIN:
        model_flags = [name for name, value in (("--model", args.model), ("--endpoint", args.endpoint),
                                          ("--samples", args.samples)) if value]
        if model_flags:
            raise InputError(t("eval.error.model_option_with_builtin",
                               options=", ".join(model_flags)))
        variants: tuple[str, ...] = (BUILTIN,)
        samples, temperature = 1, 0.0
    else:
        if not args.model and not args.endpoint:
            raise InputError(t("eval.error.model_required"))
        variants = (WITH_TRACE, WITHOUT_TRACE) if args.ablation else (WITH_TRACE,)
        samples = args.samples or DEFAULT_MODEL_SAMPLES
        temperature = args.temperature

    limits = EngineSettings(budget=args.budget, workers=args.workers)
    options = EvalOptions(benchmark=args.benchmark, engine=args.engine, variants=variants,
                          samples=samples, temperature=temperature, model=args.model,
                          endpoint=args.endpoint, limits=limits, locale=locale)
    return options, ks


def _parse_ks(text: str, locale: str) -> list[int]:
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        ks = []
    if not ks or ks[0] < 1:
        raise InputError(translate("eval.error.invalid_k", locale, value=text))
    return ks


def _tasks(args: argparse.Namespace, options: EvalOptions):
    bench_dir = Path(args.bench_dir) if args.bench_dir else default_bench_dir(args.benchmark)
    try:
        tasks = load_tasks(args.benchmark, bench_dir)
        return select_tasks(tasks, args.tasks.split(","))
    except TaskError as exc:
        raise InputError(translate(exc.key, args.locale, **exc.fields)) from exc
    except OSError as exc:
        raise InputError(translate("eval.error.bench_unreadable", args.locale,
                                   path=str(bench_dir), detail=str(exc))) from exc


def _out_dir(args: argparse.Namespace, options: EvalOptions) -> Path:
    out = Path(args.out) if args.out else Path("eval-results", f"{options.benchmark}-{options.engine}")
    if out.exists() and not out.is_dir():
        raise InputError(translate("eval.error.out_not_folder", args.locale, path=str(out)))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(translate("eval.error.out_not_folder", args.locale,
                                   path=f"{out} ({exc})")) from exc
    return out


def _interpreter(args: argparse.Namespace):
    """Pick the interpreter once: scratch projects have no virtual environment of their own."""
    from ..runner import InterpreterError, check_interpreter, find_interpreter

    try:
        interpreter = find_interpreter(tempfile.gettempdir(), args.python)
        return check_interpreter(interpreter)
    except InterpreterError as exc:
        raise InputError(str(exc)) from exc


def _sources(args: argparse.Namespace, options: EvalOptions) -> SourceFactory:
    """Return the candidate sources of the engine; a model is built and loaded here, once."""
    from .engines import builtin_sources, make_model_backend, model_options, model_sources

    if options.engine == BUILTIN:
        return builtin_sources
    locale = args.locale
    try:
        from ..model.backend import ModelError
    except ImportError as exc:
        raise InputError(translate("eval.error.model_unavailable", locale, detail=str(exc))) from exc
    try:
        tuning = {"max_new_tokens": args.max_new_tokens, "seed": args.seed,
                  "device": args.device, "dtype": args.dtype,
                  "trust_remote_code": args.trust_remote_code, "few_shot": args.few_shot}
        # NOTE: these settings are not part of the --resume check, unlike samples and
        # temperature; resume into a fresh --out after changing them.
        settings = model_options(args.model, args.endpoint, samples=options.samples,
                                 temperature=options.temperature,
                                 extra={k: v for k, v in tuning.items() if v is not None})
        backend = make_model_backend(settings, locale=locale)
        # Loading once here turns a missing model or an unreachable endpoint into an
        # input error before any task runs, instead of one failure per task.
        backend.load(progress=_load_progress if args.verbose else None)
        return model_sources(backend, settings)
    except ImportError as exc:
        raise InputError(translate("eval.error.model_unavailable", locale, detail=str(exc))) from exc
    except ModelError as exc:
        raise InputError(exc.render(locale)) from exc


def _load_progress(message: str, percent: int | None) -> None:
    prefix = f"[{percent:3d}%] " if percent is not None else ""
    sys.stderr.write(f"{prefix}{message}\n")


def _progress_printer(locale: str):
    from .report import status_key, variant_key

    def show(record: dict, done: int, total: int, skipped: bool) -> None:
        if skipped:
            line = translate("eval.progress.skipped", locale, done=done, total=total,
                             task=record["task"])
        else:
            parts = []
            for variant, result in record["variants"].items():
                status = translate(status_key(result["status"]), locale)
                if len(record["variants"]) > 1:
                    label = translate(variant_key(variant), locale)
                    status = f"{label}: {status}"
                parts.append(status)
            seconds = sum(r.get("seconds", 0.0) for r in record["variants"].values())
            line = translate("eval.progress.task", locale, done=done, total=total,
                             task=record["task"], status="; ".join(parts),
                             seconds=f"{seconds:.1f}")
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    return show


def _write_outputs(out_dir: Path, report: str, records, options: EvalOptions, ks) -> None:
    from .report import summarize

    (out_dir / "report.md").write_text(report, encoding="utf-8")
    summary = {"config": options.config(), "k": ks,
               "totals": [summarize(records, variant, ks) for variant in options.variants],
               "tasks": [r["task"] for r in records]}
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n",
                                          encoding="utf-8")


def _command(args: argparse.Namespace, options: EvalOptions) -> str:
    """Rebuild the command line from the settings in effect, for the report's header."""
    words = ["tracefix", "eval", "--benchmark", options.benchmark]
    if args.bench_dir:
        words += ["--bench-dir", args.bench_dir]
    if args.tasks:
        words += ["--tasks", args.tasks]
    words += ["--engine", options.engine]
    if options.engine != BUILTIN:
        if args.model:
            words += ["--model", args.model]
        if args.endpoint:
            words += ["--endpoint", args.endpoint]
        words += ["--samples", str(options.samples), "--k", args.k,
                  "--temperature", f"{options.temperature:g}"]
    if args.ablation:
        words.append("--ablation")
    words += ["--jobs", str(args.jobs), "--workers", str(args.workers),
              "--budget", f"{args.budget:g}"]
    return shlex.join(words)


def _fail(message: str, status: int = EXIT_USAGE) -> int:
    sys.stderr.write(f"tracefix: {message}\n")
    return status
