"""Compare the tokens of the inline-trace prompt with a full-state scratchpad on QuixBugs.

Usage:
    python benchmarks/prompt_size.py [--tasks gcd,flatten] [--bench DIR] [--limit 2048]

For each task, `buggy.py` is copied to `NAME.py` beside `test_NAME.py` in a scratch
folder, and the first failing test is traced twice with `trace_failure`:

- with the default loop compression (K=3); `build_prompt` turns that trace into the
  NExT inline-trace prompt, with no budget, so nothing is cut;
- with K=1,000,000, so that every step is kept; the same prompt then shows the plain
  code and a full-state scratchpad in place of the inline trace. The scratchpad has one
  entry per executed line: its step number, place and source text, and every local of
  its frame after the line ran. The full locals are rebuilt by starting each frame from
  its arguments and applying each step's changes in order.

Both prompts share the system message, the failure, the test's source and the
instruction. Tokens are counted with a byte-level BPE tokenizer (32,000 tokens) trained
on the running interpreter's standard library sources and cached in benchmarks/results/,
with one ChatML-style wrapper per message, and also as characters / 4. The results go
to benchmarks/results/prompt_size.json and a markdown table to stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import statistics
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from tracefix.server.engine import trace_failure
from tracefix.server.engine.diagnose import diagnose
from tracefix.server.engine.pipeline import ExplainSettings, load_sources
from tracefix.server.engine.results import FailureContext
from tracefix.server.model.prompt import build_prompt
from tracefix.server.model.templates import load_template
from tracefix.tracer.inline import render_inline
from tracefix.tracer.trace_format import EXCEPTION_KEY, RETURN_KEY, YIELD_KEY, Trace

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BENCH = REPO.parent / "shared" / "benchmarks" / "quixbugs"
RESULTS = REPO / "benchmarks" / "results"
FULL_K = 10**6  # keeps every hit of every line, so the scratchpad has every step
VOCAB_SIZE = 32_000
CHAT_START, CHAT_END = "<|im_start|>", "<|im_end|>"
UNBOUND = "<unbound>"  # the tracer's rendering of a local removed by `del`
TEMPLATE = "next-v1"

SCRATCH_HEADING = "## Code the test executed, and its execution step by step"
SCRATCH_LEGEND = (
    "After the code, each executed line is listed in order as `(step) file:line: source`, "
    "followed by every local variable of its function after the line ran. "
    "`__return__` is the value returned, `__exception__` an exception raised there, and "
    "`__yield__` a value a generator yielded."
)

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Counter:
    name: str
    count: Callable[[Messages], int]


def stdlib_tokenizer(cache: Path) -> tuple[Tokenizer, dict[str, object]]:
    """Load the cached BPE tokenizer of this interpreter's standard library, or train it.

    Training reads every `.py` file under the standard library folder, except
    site-packages and dist-packages, in sorted path order, so the same interpreter
    gives the same tokenizer.
    """
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    path = cache / f"bpe-stdlib-py{version}-{VOCAB_SIZE}.json"
    files = sorted(p for p in stdlib.rglob("*.py")
                   if "site-packages" not in p.parts and "dist-packages" not in p.parts)
    info = {"python": sys.version.split()[0], "stdlib": str(stdlib), "files": len(files),
            "bytes": sum(p.stat().st_size for p in files), "vocab_size": VOCAB_SIZE,
            "path": os.path.relpath(path, REPO)}
    if path.exists():
        return Tokenizer.from_file(str(path)), info

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=[CHAT_START, CHAT_END],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    # A few test files of the standard library are deliberately not UTF-8.
    texts = (p.read_bytes().decode("utf-8", errors="replace") for p in files)
    print(f"training the tokenizer on {len(files)} files of {stdlib} ...", file=sys.stderr)
    tokenizer.train_from_iterator(texts, trainer=trainer, length=len(files))
    cache.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return tokenizer, info


def bpe_counter(tokenizer: Tokenizer) -> Counter:
    def count(messages: Messages) -> int:
        texts = [f"{CHAT_START}{m['role']}\n{m['content']}{CHAT_END}\n" for m in messages]
        return sum(len(encoding.ids) for encoding in tokenizer.encode_batch(texts))

    return Counter("bpe", count)


def quarter_chars(messages: Messages) -> int:
    return math.ceil(sum(len(m["content"]) for m in messages) / 4)


def scratchpad(trace: Trace, sources: dict[str, str]) -> str:
    """Render every kept step with the full locals of its frame after the line ran."""
    frames = {frame.id: frame for frame in trace.frames}
    states: dict[int, dict[str, str]] = {}
    lines_of = {i: sources.get(f.path, "").splitlines() for i, f in enumerate(trace.files)}
    names = {i: os.path.relpath(f.path, trace.root) for i, f in enumerate(trace.files)}
    out: list[str] = []
    for step in trace.steps:
        frame = frames.get(step.frame)
        state = states.setdefault(step.frame, dict(frame.args) if frame else {})
        events: dict[str, str] = {}
        for name, value in step.values.items():
            if name in (RETURN_KEY, EXCEPTION_KEY, YIELD_KEY):
                events[name] = value
            elif value == UNBOUND:
                state.pop(name, None)
            else:
                state[name] = value
        source = lines_of[step.file]
        text = source[step.line - 1].strip() if 0 < step.line <= len(source) else ""
        out.append(f"({step.index}) {names[step.file]}:{step.line}: {text}")
        shown = {**state, **events}
        if shown:
            values = "; ".join(f"{name}={_one_line(value)}" for name, value in shown.items())
            out.append(f"    {values}")
    return "\n".join(out) + "\n"


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _fenced(text: str, language: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def scratchpad_messages(inline_messages: Messages, trace: Trace, full: Trace,
                        sources: dict[str, str]) -> Messages:
    """Replace the inline-trace section of the prompt with plain code and the scratchpad."""
    template = load_template(TEMPLATE)
    inline_section = "\n".join([template.text("code_heading_trace", "en"),
                                template.text("trace_legend", "en"),
                                _fenced(render_inline(trace, sources), "python")])
    scratch_section = "\n".join([SCRATCH_HEADING, SCRATCH_LEGEND,
                                 _fenced(render_inline(full, sources, annotate=False), "python"),
                                 _fenced(scratchpad(full, sources), "text")])
    user = inline_messages[-1]["content"]
    if inline_section not in user:
        raise RuntimeError("the inline-trace section was not found in the prompt; "
                           "check that this script builds it as build_prompt does")
    return inline_messages[:-1] + [{"role": "user",
                                    "content": user.replace(inline_section, scratch_section)}]


def stage_task(bench: Path, name: str, folder: Path) -> None:
    shutil.copy(bench / name / "buggy.py", folder / f"{name}.py")
    shutil.copy(bench / name / f"test_{name}.py", folder / f"test_{name}.py")


def measure_task(bench: Path, name: str, counters: list[Counter]) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"tracefix-{name}-") as scratch:
        stage_task(bench, name, Path(scratch))
        test_file = f"test_{name}.py"
        compressed = trace_failure(scratch, test_file)
        full = trace_failure(scratch, compressed.test_id,
                             settings=ExplainSettings(trace_options={"k": FULL_K}))
        sources = load_sources(compressed.trace)
        test_path = os.path.join(scratch, test_file)
        # Nothing is cut without a budget, so fault localization, which only orders
        # functions for leaving out, is not needed here.
        context = FailureContext(
            root=scratch, test_id=compressed.test_id, trace=compressed.trace,
            inline=compressed.inline, sources=sources,
            diagnosis=diagnose(compressed.trace, sources), suspicious=[],
            test_source=sources.get(test_path) or Path(test_path).read_text(encoding="utf-8"))

        row: dict[str, object] = {
            "task": name, "test_id": compressed.test_id,
            "steps": full.trace.total_steps, "kept_steps": len(compressed.trace.steps),
            "budget_hit": full.trace.budget.kind if full.trace.budget else None,
            "same_run": full.trace.total_steps == compressed.trace.total_steps,
        }
        for counter in counters:
            inline = build_prompt(context, count_tokens=counter.count, budget=10**9,
                                  template=TEMPLATE)
            plain = build_prompt(context, count_tokens=counter.count, budget=10**9,
                                 template=TEMPLATE, with_trace=False)
            full_state = scratchpad_messages(inline.messages, compressed.trace, full.trace,
                                             sources)
            scratch_tokens = counter.count(full_state)
            row[f"inline_{counter.name}"] = inline.tokens
            row[f"scratchpad_{counter.name}"] = scratch_tokens
            row[f"no_trace_{counter.name}"] = plain.tokens
            row[f"ratio_{counter.name}"] = inline.tokens / scratch_tokens
    return row


def summarize(rows: list[dict[str, object]], counters: list[Counter],
              limit: int) -> dict[str, object]:
    summary: dict[str, object] = {"tasks": len(rows), "limit": limit}
    for counter in counters:
        name = counter.name
        inline = [int(row[f"inline_{name}"]) for row in rows]
        scratch = [int(row[f"scratchpad_{name}"]) for row in rows]
        summary[name] = {
            "inline_total": sum(inline),
            "scratchpad_total": sum(scratch),
            "ratio_of_totals": sum(inline) / sum(scratch),
            "median_ratio": statistics.median(float(row[f"ratio_{name}"]) for row in rows),
            "inline_median": statistics.median(inline),
            "scratchpad_median": statistics.median(scratch),
            "inline_fit": sum(1 for value in inline if value <= limit),
            "scratchpad_fit": sum(1 for value in scratch if value <= limit),
        }
    return summary


def print_table(rows: list[dict[str, object]], summary: dict[str, object], command: str) -> None:
    limit = summary["limit"]
    print(f"`{command}`\n")
    print("| task | steps | inline BPE | scratchpad BPE | ratio | inline chars/4 "
          "| scratchpad chars/4 | ratio | no trace BPE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        steps = f"{row['steps']:,}" + (f" (stopped: {row['budget_hit']})" if row["budget_hit"] else "")
        print(f"| {row['task']} | {steps} | {row['inline_bpe']:,} | {row['scratchpad_bpe']:,} | "
              f"{row['ratio_bpe']:.3f} | {row['inline_chars4']:,} | {row['scratchpad_chars4']:,} | "
              f"{row['ratio_chars4']:.3f} | {row['no_trace_bpe']:,} |")
    print()
    differing = [str(row["task"]) for row in rows if not row["same_run"]]
    if differing:
        # A test that runs until its timeout executes a different number of steps in
        # each recording, because tracing with every hit kept runs slower.
        print(f"- the two recordings differ in length for: {', '.join(differing)}")
    tasks = summary["tasks"]
    for name in ("bpe", "chars4"):
        figures = summary[name]
        print(f"- {name}: inline {figures['inline_total']:,} tokens in all, scratchpad "
              f"{figures['scratchpad_total']:,}; ratio of totals {figures['ratio_of_totals']:.3f}, "
              f"median ratio {figures['median_ratio']:.3f}; fit {limit:,} tokens: inline "
              f"{figures['inline_fit']}/{tasks} ({figures['inline_fit'] / tasks:.0%}), "
              f"scratchpad {figures['scratchpad_fit']}/{tasks} "
              f"({figures['scratchpad_fit'] / tasks:.0%})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH,
                        help="QuixBugs folder (default: ../shared/benchmarks/quixbugs)")
    parser.add_argument("--tasks", default="", help="comma-separated task names (default: all)")
    parser.add_argument("--limit", type=int, default=2048,
                        help="context size in tokens for the share of prompts that fit")
    args = parser.parse_args(argv)

    names = [n for n in args.tasks.split(",") if n] or sorted(
        p.name for p in args.bench.iterdir() if (p / "buggy.py").is_file())
    tokenizer, tokenizer_info = stdlib_tokenizer(RESULTS)
    counters = [bpe_counter(tokenizer), Counter("chars4", quarter_chars)]

    rows = []
    for name in names:
        print(f"{name} ...", file=sys.stderr, flush=True)
        rows.append(measure_task(args.bench, name, counters))
    summary = summarize(rows, counters, args.limit)

    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "prompt_size.json", "w", encoding="utf-8") as out:
        json.dump({"template": TEMPLATE, "tokenizer": tokenizer_info, "full_k": FULL_K,
                   "summary": summary, "tasks": rows}, out, indent=2)
        out.write("\n")
    command = "python benchmarks/prompt_size.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    print_table(rows, summary, command.strip())
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
