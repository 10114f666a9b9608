"""debugpy for tracefix: the failure snapshot and "Debug this failure"; no LSP types."""

from .dap import DapClient, DapError, DapTimeout
from .launch import Debuggee, free_port, start_debuggee
from .snapshot import (
    FailureSnapshot,
    SnapshotBudget,
    SnapshotFrame,
    SnapshotValue,
    snapshot_from_json,
    take_snapshot,
)

__all__ = [
    "DapClient",
    "DapError",
    "DapTimeout",
    "Debuggee",
    "FailureSnapshot",
    "SnapshotBudget",
    "SnapshotFrame",
    "SnapshotValue",
    "free_port",
    "snapshot_from_json",
    "start_debuggee",
    "take_snapshot",
]
