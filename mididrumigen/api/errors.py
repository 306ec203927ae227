"""One JSON error shape for every error: {"error": {"code", "message", "field"?}}."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from mididrumigen.errors import UserError

log = logging.getLogger(__name__)

# Not every 400 comes through here: aiohttp's HTTP parser answers a malformed request itself (a
# request line over RUNNER_OPTIONS' max_line_size, a header over 8190 bytes, a second Host header,
# Content-Length: -1, a malformed method) with a text/plain 400 and closes the connection, before any
# middleware or route runs. aiohttp 3.14 has no public hook for that answer (aio-libs/aiohttp#3287,
# #6463): it is RequestHandler.handle_error, reachable only by subclassing web.Server and
# RequestHandler through private attributes (Server._kwargs, AppRunner._make_server) or by
# monkeypatching, which any aiohttp release could break. Those answers stay text/plain; the parser
# takes request lines far longer than the API's URL limit, so a long URL is refused here (414), and
# what the parser refuses is logged in one line (PROTOCOL_LOG), not as an error with a traceback.

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _ProtocolLog(logging.LoggerAdapter):
    """aiohttp's server log (the `logger` of RUNNER_OPTIONS): a request its HTTP parser refused (a client's
    mistake, answered 400) is one warning line; anything else keeps its traceback."""

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        from aiohttp.http import HttpProcessingError

        if isinstance(exc_info, HttpProcessingError):
            reason = " ".join(str(exc_info.message or type(exc_info).__name__).split())[:200]
            self.logger.warning("%s: refused as malformed (%s)", str(msg) % args if args else msg, reason)
            return
        self.logger.exception(msg, *args, exc_info=exc_info, **kwargs)


PROTOCOL_LOG = _ProtocolLog(logging.getLogger("aiohttp.server"), {})

CODE_BY_STATUS: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    411: "length_required",
    413: "body_too_large",
    414: "url_too_long",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    421: "misdirected_request",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
# Headers of an aiohttp HTTPException worth keeping on the JSON answer.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiError(Exception):
    """An error the API answers with a status, a code, a message and optionally the field at fault."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODE_BY_STATUS.get(status, "error")
        self.message = message
        self.field = field
        self.headers = headers or {}
        self.extra = extra or {}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> web.Response:
    """Build the one error shape."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    error.update(extra or {})
    return web.json_response({"error": error}, status=status, headers=headers)


def validation_error(exc: ValidationError) -> ApiError:
    """Turn a pydantic error into a 422 naming the first field at fault."""
    first = exc.errors(include_url=False)[0]
    loc = [str(part) for part in first.get("loc", ())]
    field = ".".join(loc) or None
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if field and not message.startswith(field):
        message = f"{field}: {message}"
    return ApiError(422, message, field=field)


def _http_exception_message(exc: web.HTTPException, request: web.Request) -> str:
    if exc.status == 404:
        return f"no such route: {request.method} {request.path}"
    if exc.status == 405:
        allowed = exc.headers.get("Allow", "")
        return f"method {request.method} is not allowed on {request.path}; allowed: {allowed}"
    if exc.status == 413:
        return "request body is too large"
    return exc.reason or "request failed"


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every failure with the one JSON error shape; never a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(
            exc.status, exc.code, exc.message, field=exc.field, headers=exc.headers, extra=exc.extra
        )
    except (
        UserError
    ) as exc:  # unknown_artist adds artist and suggestions, research_running artist and task_id
        return error_response(exc.status, exc.code, exc.message, extra=exc.details)
    except ValidationError as exc:
        err = validation_error(exc)
        return error_response(err.status, err.code, err.message, field=err.field)
    except ValueError as exc:
        return error_response(400, "bad_request", str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: exc.headers[k] for k in KEPT_HEADERS if k in exc.headers}
        code = CODE_BY_STATUS.get(exc.status, "error")
        return error_response(exc.status, code, _http_exception_message(exc, request), headers=headers)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal error; see the daemon log")
