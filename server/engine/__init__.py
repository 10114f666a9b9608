"""The built-in engine: diagnosis, fault localization, repair search and the explain pipeline.

It uses no LSP types. The CLI and the language server both call `explain_failure`
and `trace_failure` and convert the results for their users.
"""

from .diagnose import diagnose
from .localize import Spectrum, build_spectrum, is_test_file, localize, ochiai
from .pipeline import ExplainSettings, TraceResult, explain_failure, trace_failure
from .repair import BuiltinRepairSearch, line_edits
from .results import (Candidate, CandidateSource, Diagnosis, Explanation, FailureContext,
                      Suspicious)
from .testids import ExplainError
from .validation import ValidationSettings, rank, validate_candidates

builtin = BuiltinRepairSearch()

__all__ = [
    "BuiltinRepairSearch",
    "Candidate",
    "CandidateSource",
    "Diagnosis",
    "ExplainError",
    "ExplainSettings",
    "Explanation",
    "FailureContext",
    "Spectrum",
    "Suspicious",
    "TraceResult",
    "ValidationSettings",
    "build_spectrum",
    "builtin",
    "diagnose",
    "explain_failure",
    "is_test_file",
    "line_edits",
    "localize",
    "ochiai",
    "rank",
    "trace_failure",
    "validate_candidates",
]
