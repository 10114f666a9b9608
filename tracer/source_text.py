"""Decode and encode Python source files the way the interpreter reads them.

Python decodes a source file by its coding cookie (PEP 263: `# -*- coding: latin-1 -*-`
on line 1 or 2), else by a UTF-8 byte order mark, else as UTF-8. Reading source as
UTF-8 regardless shows a latin-1 file as replacement characters, and writing a patched
file as UTF-8 changes what its string literals mean. Line endings are kept as they are:
`inline.source_lines` splits lines the way Python numbers them, and a patch must keep
a CRLF file CRLF.
"""

from __future__ import annotations

import io
import re
import tokenize

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def source_encoding(data: bytes) -> str:
    """Return the encoding Python uses for source `data`; "utf-8-sig" when it has a BOM.

    Raises SyntaxError for an unknown encoding or a BOM that contradicts the cookie,
    as `tokenize.detect_encoding` and the interpreter do.
    """
    encoding, _lines = tokenize.detect_encoding(io.BytesIO(data).readline)
    return encoding


def decode_source(data: bytes, errors: str = "strict") -> str:
    """Decode source bytes by their coding cookie or BOM; the BOM is not part of the text.

    A cookie naming an unknown encoding falls back to UTF-8 with `errors`.
    """
    try:
        encoding = source_encoding(data)
    except SyntaxError:
        encoding = "utf-8"
    return data.decode(encoding, errors)


def read_source(path: str, errors: str = "strict") -> str:
    """Read the file at `path` as Python source text; raises OSError and UnicodeDecodeError."""
    with open(path, "rb") as f:
        return decode_source(f.read(), errors)


def encode_source(text: str) -> bytes:
    """Encode source text in the encoding its own coding cookie declares, else UTF-8.

    Raises UnicodeEncodeError when the text contains a character that encoding lacks.
    A cookie naming an unknown encoding falls back to UTF-8, like `decode_source`.
    """
    # The cookie counts only on the first two lines as Python numbers them.
    head = "\n".join(_LINE_BREAK.split(text, maxsplit=2)[:2]).encode("ascii", "replace")
    try:
        encoding = source_encoding(head)
    except SyntaxError:
        encoding = "utf-8"
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    return text.encode(encoding)
