"""Put untrusted text (values from a trace, names from the user's code) into markdown.

A CommonMark code span shows its content literally, so wrapping every untrusted string
in one keeps it from becoming links, HTML or emphasis. The fence is one backtick longer
than the longest run of backticks inside, so the content cannot close it early.
"""

from __future__ import annotations

import re

_BACKTICK_RUNS = re.compile(r"`+")
MAX_SPAN_CHARS = 160


def code(text: object, limit: int = MAX_SPAN_CHARS) -> str:
    """Return `text` as one inline code span, on one line and at most `limit` characters."""
    value = str(text).replace("\r", " ").replace("\n", " ")
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    if not value.strip():
        # An empty or blank span renders as nothing; show the length so it stays visible.
        value = repr(value)
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(value)), default=0)
    fence = "`" * (longest + 1)
    # A span whose content starts or ends with a backtick needs a space as padding,
    # which CommonMark strips again when rendering.
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def plain(text: object, limit: int = MAX_SPAN_CHARS) -> str:
    """Return `text` on one line for a plain-text summary, cut to `limit` characters."""
    value = str(text).replace("\r", " ").replace("\n", " ")
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value
