"""Pure ASGI middleware: request id, access log, security headers, body-size limit (refused
bodies drained so clients read the answer), query-operator guard and the last-resort 500
handler."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import time
from typing import Any

import structlog
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.query_string import check_query_string
from app.core.context import request_id_var
from app.core.exceptions import error_body
from app.core.logging import access_log

error_log = structlog.get_logger("app.errors")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Generated request ids: 64 random bits per process, then a counter (32 hex characters, as a
# uuid4's hex; unique across processes, and cheaper than a uuid per request).
_ID_PREFIX = os.urandom(8).hex()
_id_counter = itertools.count(1)


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive` once the streamed body passes the limit. An HTTPException so
    FastAPI's body parsing re-raises it instead of turning it into a 400."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="The request body is too large.")


class _Body:
    """How much of the request body the server has taken off the connection."""

    __slots__ = ("done", "read", "received")

    def __init__(self) -> None:
        self.done = False  # the last chunk was received
        self.read = False  # anyone called receive()
        self.received = 0


def _declares_body(scope: Scope) -> bool:
    """A `Content-Length` other than 0, or a `Transfer-Encoding`: HTTP/1.1 framing of a
    request body (without either, there is none)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            if value.strip() not in (b"", b"0"):
                return True
        elif name == b"transfer-encoding":
            return True
    return False


class RequestContextMiddleware:
    """Outermost app middleware: everything inside it is timed, logged and error-shaped."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        drain_bytes: int = 32 * 1024 * 1024,
        drain_seconds: float = 10.0,
        unlimited_paths: re.Pattern[str] | None = None,
        hsts: bool = False,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.drain_bytes = drain_bytes
        self.drain_seconds = drain_seconds
        self.unlimited_paths = unlimited_paths
        self.security_headers: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if hsts:
            self.security_headers.append(
                (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
            )
        self.security_names = frozenset(name for name, _ in self.security_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = self._request_id(scope)
        token = request_id_var.set(request_id)  # log records read it (core/logging.py)
        state: dict[str, Any] = {"status": 500, "started": False}
        scope.setdefault("state", {})
        body = _Body()
        has_body = _declares_body(scope)
        if has_body:
            receive = self._tracked(receive, body)
        else:  # nothing to read, limit or drain
            body.done = True
        method = scope["method"]
        if method == "HEAD":  # answered as GET without the body, wherever GET is (RFC 9110)
            scope = {**scope, "method": "GET"}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                headers = list(message.get("headers", ()))
                missing = self.security_headers
                for name, _ in headers:
                    if name.lower() in self.security_names:  # the endpoint's own wins
                        missing = [h for h in missing if h[0] != name.lower()]
                if not body.done and not await self._drain(scope, receive, body):
                    headers.append((b"connection", b"close"))
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(missing)
                message["headers"] = headers
            elif method == "HEAD" and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            rejection = self._reject(scope)
            if rejection is not None:
                await self._send_error(send_wrapper, *rejection)
            else:
                await self.app(
                    scope, self._limited(scope, receive) if has_body else receive, send_wrapper
                )
        except BodyTooLarge:
            if not state["started"]:
                await self._send_error(
                    send_wrapper, 413, "PAYLOAD_TOO_LARGE", "The request body is too large."
                )
        except Exception as exc:  # the last resort: log it, never leak it
            error_log.error("unhandled_error", exc_info=exc, path=scope.get("path"))
            if not state["started"]:
                await self._send_error(
                    send_wrapper, 500, "INTERNAL_ERROR", "An unexpected error occurred."
                )
        finally:
            access_log().info(
                "request",
                method=method,
                path=scope.get("path"),
                status=state["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                user_id=scope["state"].get("user_id"),
            )
            request_id_var.reset(token)

    @staticmethod
    def _tracked(receive: Receive, body: _Body) -> Receive:
        async def tracked() -> Message:
            body.read = True
            message = await receive()
            if message["type"] == "http.request":
                body.received += len(message.get("body", b""))
                body.done = not message.get("more_body", False)
            else:  # http.disconnect: nothing more will come
                body.done = True
            return message

        return tracked

    async def _drain(self, scope: Scope, receive: Receive, body: _Body) -> bool:
        """Called when a response starts before the request body was read to its end (a 413,
        or a 401/404 on an upload). Clients that send the whole body before reading — as
        simple HTTP clients do — only see the answer if the server reads what they send;
        closing on unread data makes the kernel reset the connection instead. So: read and
        discard up to `drain_bytes` within `drain_seconds`. True when the body was read to
        its end (the connection stays usable); False means the caller closes it."""
        expects_continue = False
        declared = False
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                declared = value.strip() not in (b"", b"0")
            elif name == b"transfer-encoding":
                declared = True
            elif name == b"expect" and value.lower() == b"100-continue":
                expects_continue = True
        if not declared:
            return True
        if expects_continue and not body.read:
            return False  # the client waits for our go-ahead: don't invite the body, close
        limit = body.received + self.drain_bytes
        try:
            async with asyncio.timeout(self.drain_seconds):
                while not body.done and body.received <= limit:
                    await receive()
        except TimeoutError:
            return False
        return body.done

    def _unlimited(self, scope: Scope) -> bool:
        """Upload routes enforce their own, per-purpose limits while streaming."""
        return bool(self.unlimited_paths and self.unlimited_paths.fullmatch(scope["path"]))

    @staticmethod
    def _request_id(scope: Scope) -> str:
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                candidate: str = value.decode("latin-1")
                if _REQUEST_ID_RE.match(candidate):
                    return candidate
                break
        return f"{_ID_PREFIX}{next(_id_counter):016x}"

    def _reject(self, scope: Scope) -> tuple[int, str, str, list[Any]] | None:
        rejection = check_query_string(scope.get("query_string", b""))
        if rejection is not None:
            return rejection
        if self._unlimited(scope):
            return None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    return (400, "BAD_REQUEST", "Invalid Content-Length header.", [])
                if length > self.max_body_bytes:
                    return (413, "PAYLOAD_TOO_LARGE", "The request body is too large.", [])
        return None

    def _limited(self, scope: Scope, receive: Receive) -> Receive:
        if self._unlimited(scope):
            return receive
        received = 0
        limit = self.max_body_bytes

        async def wrapped() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        return wrapped

    @staticmethod
    async def _send_error(
        send: Send, status: int, code: str, message: str, details: list[Any] | None = None
    ) -> None:
        body = json.dumps(error_body(status, code, message, details)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
