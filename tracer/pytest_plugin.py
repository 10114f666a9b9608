"""pytest plugin entry point: does nothing unless one of its options is given.

Registered through the `pytest11` entry point and also passed by the runner with
`-p tracefix.tracer.pytest_plugin` (the entry point has the module's name, so pytest
registers it once). It only adds options. The stateful plugins that write the
structured report and the traces are registered in `pytest_configure`, and only when
their option is set. So an ordinary `pytest` run in a project that has tracefix
installed behaves exactly as without it.
"""

from __future__ import annotations

import os

import pytest

from .config import TraceConfig


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tracefix", "tracefix: record what failing tests executed")
    group.addoption(
        "--tracefix-report",
        metavar="PATH",
        default=None,
        help="write one JSON line per test outcome to PATH (appended as tests finish, "
        "so a crash keeps what ran before it)",
    )
    group.addoption(
        "--tracefix-coverage",
        action="store_true",
        default=False,
        help="with --tracefix-report: also record the project lines each test executed",
    )
    group.addoption(
        "--tracefix-trace-dir",
        metavar="DIR",
        default=None,
        help="record a line trace of each selected test and write it as JSON into DIR",
    )
    group.addoption(
        "--tracefix-trace-only",
        metavar="NODEID",
        action="append",
        default=[],
        help="trace only this test (repeatable); default: every selected test",
    )
    group.addoption(
        "--tracefix-root",
        metavar="DIR",
        default=None,
        help="project root: only files below it are traced (default: pytest's rootdir)",
    )
    group.addoption(
        "--tracefix-k",
        type=int,
        default=None,
        help="loop compression: keep the first K and last K hits of each line (default 3)",
    )
    group.addoption("--tracefix-max-events", type=int, default=None,
                    help="stop recording after this many line events (default 1,000,000)")
    group.addoption("--tracefix-max-bytes", type=int, default=None,
                    help="stop recording when rendered values reach this many bytes "
                    "(default 4,000,000)")
    group.addoption("--tracefix-max-seconds", type=float, default=None,
                    help="stop recording after this many seconds of a test (default 20)")
    group.addoption(
        "--tracefix-backend",
        choices=("auto", "settrace", "monitoring"),
        default="auto",
        help="recording backend: sys.monitoring on Python 3.12+, sys.settrace otherwise "
        "(default auto)",
    )


def pytest_configure(config: pytest.Config) -> None:
    report_path = config.getoption("tracefix_report")
    trace_dir = config.getoption("tracefix_trace_dir")
    if report_path is None and trace_dir is None:
        return

    # Paths are made absolute now: a test may change the working directory later.
    root = os.path.abspath(config.getoption("tracefix_root") or str(config.rootpath))

    if report_path is not None:
        from .isolation import TestIsolation
        from .report import ReportWriter

        writer = ReportWriter(
            os.path.abspath(report_path),
            root=root,
            coverage=config.getoption("tracefix_coverage"),
        )
        config.pluginmanager.register(writer, "tracefix-report")
        # Runs made by tracefix put back the working directory and environment after
        # each test, so an outcome does not depend on which tests ran before.
        config.pluginmanager.register(TestIsolation(writer.write_leak), "tracefix-isolation")

    if trace_dir is not None:
        from .pytest_trace import TracingPlugin

        trace_config = TraceConfig.from_options(
            root=root,
            k=config.getoption("tracefix_k"),
            max_events=config.getoption("tracefix_max_events"),
            max_bytes=config.getoption("tracefix_max_bytes"),
            max_seconds=config.getoption("tracefix_max_seconds"),
            backend=config.getoption("tracefix_backend"),
        )
        config.pluginmanager.register(
            TracingPlugin(
                os.path.abspath(trace_dir),
                trace_config,
                only=set(config.getoption("tracefix_trace_only")),
            ),
            "tracefix-trace",
        )
