"""`python -m tracefix.server.lsp` starts the language server on stdio."""

from .server import main

main()
