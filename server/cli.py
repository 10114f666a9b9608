"""The `tracefix` command: trace a failing test, explain it with verified fixes, or serve LSP.

Exit status: 0 when `explain` found a verified fix (or `trace` printed a trace), 1 when
`explain` found none, 2 for usage and input errors (unknown test, no failing test,
collection errors, no interpreter). `eval` exits 0 when its run completed and 2 for
invalid input (see tracefix.server.evaluation.cli). This module and the evaluation's
cli module are the only places that write to stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import asdict
from typing import Sequence, TextIO

from .i18n import normalize_locale, note_text, outcome_word, translate

EXIT_FIXED = 0
EXIT_NOT_FIXED = 1
EXIT_USAGE = 2


def default_locale(environ=os.environ) -> str:
    """Pick the locale as POSIX does: LC_ALL, then LC_MESSAGES, then LANG."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return normalize_locale(value)
    return normalize_locale(None)


def build_parser() -> argparse.ArgumentParser:
    # Shared options are accepted before and after the subcommand. On subcommands they
    # default to SUPPRESS so that a value given before the subcommand is not overwritten.
    def shared(parser: argparse.ArgumentParser, top: bool) -> None:
        parser.add_argument("--root", default=os.getcwd() if top else argparse.SUPPRESS,
                            help="project root (default: the current directory)")
        parser.add_argument("--locale", default=default_locale() if top else argparse.SUPPRESS,
                            help="language of the output: en or ja (default: from LC_ALL, "
                            "LC_MESSAGES or LANG)")
        parser.add_argument("--python", default=None if top else argparse.SUPPRESS,
                            help="interpreter that runs the tests (default: the project's "
                            ".venv or venv, else the Python that runs tracefix)")
        parser.add_argument("-v", "--verbose", action="count", default=0 if top else argparse.SUPPRESS,
                            help="log progress (-v) or debug details (-vv) to stderr")

    parser = argparse.ArgumentParser(
        prog="tracefix",
        description="Trace a failing pytest test, explain the failure, and offer fixes "
        "verified by re-running the tests.")
    shared(parser, top=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    trace = commands.add_parser("trace", help="print the line-by-line trace of a test")
    add_test_id(trace)
    trace.add_argument("--json", action="store_true", help="print the trace file as JSON")
    shared(trace, top=False)

    explain = commands.add_parser("explain", help="explain a failing test and search for fixes")
    add_test_id(explain)
    explain.add_argument("--json", action="store_true", help="print the result as one JSON object")
    explain.add_argument("--budget", type=float, default=120.0, metavar="SECONDS",
                         help="wall time for validating candidate fixes (default 120)")
    explain.add_argument("--max-fixes", type=int, default=3, metavar="N",
                         help="stop after N verified fixes (default 3)")
    explain.add_argument("--workers", type=int, default=2, metavar="N",
                         help="candidate fixes validated at once (default 2)")
    explain.add_argument("--max-candidates", type=int, default=200, metavar="N",
                         help="most candidate edits to generate (default 200)")
    explain.add_argument("--allow-test-edits", action="store_true",
                         help="also try edits in test files")
    explain.add_argument("--no-trace", action="store_true",
                         help="do not print the inline trace before the explanation")
    add_model_options(explain)
    shared(explain, top=False)

    snapshot = commands.add_parser(
        "snapshot", help="print the state at a test's failure (frames and locals, via debugpy)")
    add_test_id(snapshot)
    snapshot.add_argument("--json", action="store_true", help="print the snapshot as JSON")
    shared(snapshot, top=False)

    debug = commands.add_parser(
        "debug", help="start a failing test under debugpy, paused at the failure, for a debugger")
    add_test_id(debug)
    shared(debug, top=False)

    serve = commands.add_parser("serve", help="start the language server on stdin/stdout")
    # vscode-languageclient appends --stdio for its stdio transport; stdio is the only one.
    serve.add_argument("--stdio", action="store_true", help="accepted for LSP clients; "
                       "the server always speaks over stdin/stdout")
    shared(serve, top=False)

    from .evaluation.cli import add_eval_parser
    add_eval_parser(commands, shared)
    return parser


def add_test_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("test_id", metavar="TEST_ID",
                        help="pytest node id (file.py::test_name) or a test file, whose first "
                        "failing test is taken")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Flags that choose and tune a model; they override [tool.tracefix.model] of pyproject.toml."""
    group = parser.add_argument_group("model", "ask a model for fixes as well (default: the "
                                      "model of [tool.tracefix.model] in pyproject.toml, if any)")
    group.add_argument("--model", metavar="PATH_OR_ID",
                       help="transformers model: a local folder or a Hugging Face hub id")
    group.add_argument("--endpoint", metavar="URL",
                       help="OpenAI-compatible API base URL, e.g. http://127.0.0.1:8000/v1 "
                       "(the key is read from $TRACEFIX_API_KEY)")
    group.add_argument("--model-name", metavar="NAME",
                       help="model name to request from --endpoint (default: the first it lists)")
    group.add_argument("--samples", type=int, metavar="N", help="answers to sample (default 4)")
    group.add_argument("--temperature", type=float, metavar="T", help="sampling temperature "
                       "(default 0.8; 0 decodes greedily)")
    group.add_argument("--max-new-tokens", type=int, metavar="N",
                       help="maximum answer length in tokens (default 1024)")
    group.add_argument("--device", metavar="DEVICE", help="auto, cpu, cuda, cuda:N or mps")
    group.add_argument("--dtype", metavar="DTYPE", help="auto, float32, float16 or bfloat16")
    group.add_argument("--trust-remote-code", action="store_true", default=None,
                       help="let transformers run the model folder's own code")
    group.add_argument("--seed", type=int, metavar="N", help="make sampling repeatable")
    group.add_argument("--no-model", action="store_true",
                       help="use the built-in engine only, even if a model is configured")
    group.add_argument("--no-builtin", action="store_true",
                       help="validate only the model's fixes, not the built-in engine's")
    group.add_argument("--show-unverified", action="store_true",
                       help="also list model fixes that were not verified, labelled as such")


def model_overrides(args: argparse.Namespace) -> dict:
    """Return the model flags set on the command line, as [tool.tracefix.model] keys."""
    given = {
        "model": args.model_name if args.endpoint else args.model,
        "endpoint": args.endpoint, "samples": args.samples, "temperature": args.temperature,
        "max_new_tokens": args.max_new_tokens, "device": args.device, "dtype": args.dtype,
        "trust_remote_code": args.trust_remote_code, "seed": args.seed,
    }
    overrides = {key: value for key, value in given.items() if value is not None}
    if args.endpoint:
        overrides["kind"] = "openai"
    elif args.model:
        overrides["kind"] = "transformers"
    if args.no_builtin:
        overrides["include_builtin"] = False
    if args.show_unverified:
        overrides["show_unverified"] = True
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    requested = args.locale
    args.locale = normalize_locale(requested)
    if requested and not requested.lower().startswith(args.locale):
        sys.stderr.write(translate("cli.warning.locale", args.locale, requested=requested) + "\n")
    _configure_logging(args.verbose)

    if args.command == "serve":
        return _serve(args)
    if args.command == "eval":
        from .evaluation.cli import run_eval
        return run_eval(args)
    for name, value, minimum in (("--budget", getattr(args, "budget", 1), 0),
                                 ("--max-fixes", getattr(args, "max_fixes", 1), 1),
                                 ("--workers", getattr(args, "workers", 1), 1),
                                 ("--max-candidates", getattr(args, "max_candidates", 1), 0)):
        if value < minimum or (name == "--budget" and value <= 0):
            parser.error(translate("cli.error.invalid_number", args.locale, option=name,
                                   value=value, minimum=minimum))
    if not os.path.isdir(args.root):
        return _fail(translate("cli.error.root_not_found", args.locale, root=args.root))

    from .engine import ExplainError
    from .model.backend import ModelError
    from .runner import InterpreterError, find_interpreter

    try:
        interpreter = find_interpreter(os.path.abspath(args.root), args.python)
        if args.command == "trace":
            return _trace(args, interpreter, sys.stdout)
        if args.command in ("snapshot", "debug"):
            from .debug_cli import debug_command, snapshot_command

            command = snapshot_command if args.command == "snapshot" else debug_command
            return command(args, interpreter, sys.stdout)
        return _explain(args, interpreter, sys.stdout)
    except (ExplainError, InterpreterError) as exc:
        return _fail(str(exc))
    except ModelError as exc:
        return _fail(exc.render(args.locale))
    except KeyboardInterrupt:
        return _fail(translate("engine.error.cancelled", args.locale))


def _fail(message: str) -> int:
    sys.stderr.write(f"tracefix: {message}\n")
    return EXIT_USAGE


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING
    if verbosity == 1:
        level = logging.INFO
    elif verbosity > 1:
        level = logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


def _trace(args: argparse.Namespace, interpreter, out: TextIO) -> int:
    from .engine import trace_failure

    result = trace_failure(os.path.abspath(args.root), args.test_id, locale=args.locale,
                           interpreter=interpreter)
    if args.json:
        out.write(json.dumps(result.trace.to_json(), ensure_ascii=False, indent=1) + "\n")
        return EXIT_FIXED
    out.write(translate("cli.heading.trace", args.locale, test=result.test_id,
                        outcome=outcome_word(result.outcome, args.locale)) + "\n")
    out.write(result.inline.rstrip("\n") + "\n")
    notes = list(result.notes)
    if normalize_locale(args.locale) != "en":
        # The inline trace stays English because it is the model's input. What its
        # header says about the recording is repeated here in the reader's language.
        trace = result.trace
        if trace.budget is not None:
            notes.insert(0, translate("recording.budget", args.locale, step=trace.budget.step,
                                      detail=note_text(trace.budget.detail, args.locale)))
        if trace.threads_not_traced:
            notes.append(translate("recording.threads", args.locale,
                                   names=", ".join(trace.threads_not_traced)))
        if notes:
            notes.insert(0, translate("cli.trace.english", args.locale))
    for note in notes:
        out.write(f"# {note}\n")
    return EXIT_FIXED


def _explain(args: argparse.Namespace, interpreter, out: TextIO) -> int:
    from .engine import BuiltinRepairSearch, ExplainSettings, ValidationSettings, explain_failure
    from .model.config import load_options

    root = os.path.abspath(args.root)
    settings = ExplainSettings(
        validation=ValidationSettings(workers=args.workers, budget_seconds=args.budget,
                                      stop_after_verified=args.max_fixes),
        allow_test_edits=args.allow_test_edits, max_candidates=args.max_candidates,
    )
    progress = _progress_printer(args.locale) if sys.stderr.isatty() or args.verbose else None
    options = load_options(root, cli=model_overrides(args))
    sources = None
    streamer = None
    if options.enabled and not args.no_model:
        from .model.config import make_backend
        from .model.source import ModelCandidateSource

        backend = make_backend(options.backend, locale=args.locale)
        streamer = None if args.json else _AnswerStreamer(out, args.locale, backend.name)
        model = ModelCandidateSource(backend, options, progress=progress,
                                     on_delta=streamer.delta if streamer else None)
        builtin = BuiltinRepairSearch(max_lines=settings.max_lines,
                                      max_candidates=settings.max_candidates)
        sources = [model] + ([builtin] if options.include_builtin else [])
    explanation = explain_failure(root, args.test_id, locale=args.locale,
                                  interpreter=interpreter, progress=progress, settings=settings,
                                  sources=sources)
    if streamer is not None:
        streamer.finish()
    verified = [c for c in explanation.candidates if c.verified]
    if args.json:
        out.write(json.dumps(_as_json(explanation), ensure_ascii=False, indent=1) + "\n")
    else:
        _write_explanation(explanation, verified, args, out, options.show_unverified)
    return EXIT_FIXED if verified else EXIT_NOT_FIXED


class _AnswerStreamer:
    """A printer that writes the first sample as it is generated; the others are summarised after."""

    def __init__(self, out: TextIO, locale: str, model: str) -> None:
        self.out, self.locale, self.model = out, locale, model
        self.started = False

    def delta(self, sample: int, text: str) -> None:
        if sample != 0:
            return
        if not self.started:
            self.out.write(translate("cli.heading.reasoning", self.locale, model=self.model,
                                     sample=1) + "\n")
            self.started = True
        self.out.write(text)
        self.out.flush()

    def finish(self) -> None:
        if self.started:
            self.out.write("\n\n")


def _progress_printer(locale: str):
    def show(message: str, percent: int | None) -> None:
        prefix = f"[{percent:3d}%] " if percent is not None else ""
        sys.stderr.write(f"{prefix}{message}\n")
    return show


def _write_explanation(explanation, verified, args, out: TextIO, show_unverified: bool = False) -> None:
    t = lambda key, **fields: translate(key, args.locale, **fields)  # noqa: E731
    if not args.no_trace:
        out.write(t("cli.heading.trace", test=explanation.test_id,
                    outcome=outcome_word(explanation.trace.outcome, args.locale)) + "\n")
        out.write(explanation.inline.rstrip("\n") + "\n\n")
    out.write(t("cli.heading.diagnosis") + "\n")
    out.write(explanation.diagnosis.markdown.rstrip("\n") + "\n\n")

    out.write(t("cli.heading.suspicious") + "\n")
    for number, s in enumerate(explanation.suspicious[:5], start=1):
        where = os.path.relpath(s.file, os.path.abspath(args.root))
        out.write(f"{number}. {where}:{s.line}  {s.score:.2f}  {s.reason}\n")
    out.write("\n")

    tried = sum(1 for c in explanation.candidates if c.total or c.detail)
    if verified:
        out.write(t("cli.heading.fixes", count=len(verified), tried=tried) + "\n")
        for candidate in verified:
            out.write(t("cli.fix", description=candidate.description, passed=candidate.passed,
                        total=candidate.total) + "\n")
            out.write(candidate.diff.rstrip("\n") + "\n\n")
    else:
        out.write(t("cli.no_fix", tried=tried, total=len(explanation.candidates)) + "\n")
    _write_model_answers(explanation, out, args.locale)
    if show_unverified:
        unverified = [c for c in explanation.candidates if not c.verified and c.kind == "model"]
        for candidate in unverified:
            out.write(t("cli.fix_unverified", description=candidate.description,
                        passed=candidate.passed, total=candidate.total) + "\n")
            out.write(candidate.diff.rstrip("\n") + "\n\n")
    for note in explanation.notes:
        out.write(f"- {note}\n")


def _write_model_answers(explanation, out: TextIO, locale: str) -> None:
    """Write one line per sample: verified, failed its tests, or why it had no usable fix."""
    from .model.source import answer_status

    for report in explanation.reports:
        answers = getattr(report, "answers", None)
        if not answers:
            continue
        out.write(translate("cli.heading.answers", locale, model=report.model,
                            count=len(answers)) + "\n")
        for answer in answers:
            status, fields = answer_status(answer)
            out.write(f"{answer.sample + 1}. {translate(f'cli.answer.{status}', locale, **fields)}\n")
        out.write("\n")


def _as_json(explanation) -> dict:
    return {
        "test_id": explanation.test_id,
        "reliable": explanation.trace.reliable,
        "inline": explanation.inline,
        "diagnosis": asdict(explanation.diagnosis),
        "suspicious": [asdict(s) for s in explanation.suspicious],
        "candidates": [
            {key: value for key, value in asdict(c).items() if key != "new_text"}
            for c in explanation.candidates if c.total or c.detail
        ],
        "notes": explanation.notes,
        "model": [_report_json(report) for report in explanation.reports
                  if hasattr(report, "answers")],
    }


def _report_json(report) -> dict:
    return {
        "model": report.model, "error": report.error, "prompt_tokens": report.prompt_tokens,
        "cuts": report.cuts, "template": report.template, "with_trace": report.with_trace,
        "answers": [{
            "sample": a.sample, "finish_reason": a.finish_reason, "reasoning": a.reasoning,
            "reason": a.reason, "files": a.files,
            "candidate": a.candidate.description if a.candidate else None,
            "verified": bool(a.candidate and a.candidate.verified),
        } for a in report.answers],
    }


def _serve(args: argparse.Namespace) -> int:
    try:
        from .lsp import server
    except ImportError as exc:
        return _fail(translate("cli.error.no_server", args.locale, detail=str(exc)))
    start = getattr(server, "main", None) or getattr(server, "start_stdio", None)
    if start is None:
        return _fail(translate("cli.error.no_server", args.locale,
                               detail="tracefix.server.lsp.server has no main() or start_stdio()"))
    result = start()
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
