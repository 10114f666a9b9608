"""The JSON-RPC protocol of the server: pygls's, plus a response to every malformed request.

pygls 2.1.1 converts each incoming message to lsprotocol types while it parses the JSON.
When a request's params do not fit its method (a string where a position belongs, a
missing field), the conversion raises before the request reaches the dispatcher, pygls
logs the error, and the request never gets a response. A client then waits forever for
it. Here the server sends the JSON-RPC error as the request's response first.
"""

from __future__ import annotations

import logging
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from lsprotocol.types import ResponseError
from pygls.protocol import LanguageServerProtocol

from tracefix.server.i18n import translate

log = logging.getLogger(__name__)


class AnsweredRequestError(JsonRpcException):
    """A request that could not be converted, after its error response was sent."""


class TracefixProtocol(LanguageServerProtocol):
    """pygls's LSP protocol, sending an error response to each request it cannot convert."""

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            request_id = data.get("id")
            method = data.get("method")
            # JSON-RPC ids are strings or integers. A message with another id, or without
            # a method, is not a request, so no response can be sent to it.
            valid_id = isinstance(request_id, (str, int)) and not isinstance(request_id, bool)
            if not valid_id or not isinstance(method, str) or "result" in data or "error" in data:
                raise
            response = error.to_response_error()
            if isinstance(error, JsonRpcInvalidParams):
                message = translate("lsp.protocol.invalid_params", self._server.locale, method=method)
                response = ResponseError(code=response.code, message=message)
            log.warning("request %r (%s) rejected: %s", request_id, method, response.message)
            self._send_response(request_id, None, response)
            raise AnsweredRequestError(response.message, response.code) from error
