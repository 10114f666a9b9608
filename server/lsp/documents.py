"""Open documents whose lines break where LSP clients break them.

pygls 2.1.1 splits a document with `str.splitlines`, which also breaks at form feeds,
vertical tabs, U+001C to U+001E, U+0085, U+2028 and U+2029. LSP clients break lines only at \\n, \\r\\n
and \\r, so pygls applied an incremental change below such a character to the wrong
line, and the server's copy of the document drifted from the editor's buffer. Python
source may contain these characters: a form feed is whitespace, and the others are
allowed inside strings and comments.
"""

from __future__ import annotations

import logging
from typing import Optional, Sequence

from pygls.workspace import TextDocument, Workspace

from .positions import split_lines_keepends

log = logging.getLogger(__name__)


class LspTextDocument(TextDocument):
    """A pygls document whose `lines`, and so its position conversions, follow LSP line breaks."""

    @property
    def lines(self) -> Sequence[str]:
        return tuple(split_lines_keepends(self.source))


class LspWorkspace(Workspace):
    """A pygls workspace that opens every document as an `LspTextDocument`."""

    def _create_text_document(
        self,
        doc_uri: str,
        source: Optional[str] = None,
        version: Optional[int] = None,
        language_id: Optional[str] = None,
    ) -> TextDocument:
        return LspTextDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self._position_codec,
        )


def use_lsp_line_breaks(workspace: Workspace) -> None:
    """Make `workspace` open its documents as `LspTextDocument`s.

    pygls creates the workspace itself while it handles `initialize`, so the server
    switches the instance's class from its own initialize handler, before any document
    is opened. The subclass adds no state.
    """
    # NOTE: this relies on the private `Workspace._create_text_document` of pygls 2.1.
    # Without it, documents keep pygls's line splitting and the drift above remains.
    if not hasattr(workspace, "_create_text_document"):
        log.warning("pygls Workspace has no _create_text_document; documents keep pygls's "
                    "line splitting at form feeds and Unicode line separators")
        return
    if type(workspace) is Workspace:
        workspace.__class__ = LspWorkspace
