"""The error hierarchy and the handlers that render every error in one shape.

Shape: ``{"error": {"code", "message", "details"}, "request_id"}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure
from slowapi.errors import RateLimitExceeded
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.context import request_id_var

log = structlog.get_logger("app.errors")


class AppError(Exception):
    status_code: int = 400
    code: str = "BAD_REQUEST"
    message: str = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details or []
        self.headers = dict(headers or {})
        super().__init__(self.message)


class BadRequest(AppError):
    status_code = 400
    code = "BAD_REQUEST"


class Unauthorized(AppError):
    status_code = 401
    code = "NOT_AUTHENTICATED"
    message = "Authentication is required."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(AppError):
    status_code = 403
    code = "FORBIDDEN"
    message = "You are not allowed to do this."


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"
    message = "The resource was not found."


class Conflict(AppError):
    status_code = 409
    code = "CONFLICT"
    message = "The request conflicts with the current state."


class PreconditionFailed(AppError):
    status_code = 412
    code = "PRECONDITION_FAILED"
    message = "The resource changed since you read it."


class TooLarge(AppError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "The request body is too large."


class UnsupportedMedia(AppError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    message = "This type of content is not accepted."


class ValidationFailed(AppError):
    status_code = 422
    code = "VALIDATION_ERROR"
    message = "The request is not valid."


class RateLimited(AppError):
    """Always with `Retry-After` (60 s unless the raiser knows better)."""

    status_code = 429
    code = "RATE_LIMITED"
    message = "Too many requests; slow down."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        headers = {"Retry-After": "60", **dict(kwargs.pop("headers", None) or {})}
        super().__init__(message, headers=headers, **kwargs)


class ServiceUnavailable(AppError):
    """Always with `Retry-After` (5 s unless the raiser knows better)."""

    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "A backing service is unavailable; try again shortly."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        headers = {"Retry-After": "5", **dict(kwargs.pop("headers", None) or {})}
        super().__init__(message, headers=headers, **kwargs)


HTTP_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "NOT_AUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    414: "URI_TOO_LONG",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def error_body(
    status_code: int, code: str, message: str, details: list[Any] | None = None
) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": message, "details": details or []},
        "request_id": request_id_var.get(),
    }


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: list[Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(status_code, code, message, details),
        status_code=status_code,
        headers=dict(headers or {}),
    )


MAX_DETAILS = 50  # validation errors listed in one answer; the rest are counted


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = exc.errors()
    details: list[dict[str, Any]] = []
    for err in errors[:MAX_DETAILS]:
        msg = str(err.get("msg", ""))
        if err.get("type") == "json_invalid" and isinstance(err.get("ctx"), dict):
            msg = f"{msg}: {err['ctx'].get('error', '')}"  # why (strict_json's reason)
        details.append(
            {
                "loc": [str(part)[:100] for part in err.get("loc", ())],  # keys echo input
                "msg": msg,
                "type": str(err.get("type", "")),
            }
        )
    if len(errors) > MAX_DETAILS:
        details.append(
            {
                "loc": [],
                "msg": f"{len(errors) - MAX_DETAILS} more errors not listed",
                "type": "too_many_errors",
            }
        )
    return details


async def app_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)  # noqa: S101 - registered for AppError only
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


# A validation error whose type is UPPER_SNAKE carries a stable code of its own (query models
# raise them: INVALID_SORT, CURRENCY_REQUIRED…; see schemas/query.py): the response has it.
_OWN_CODE = re.compile(r"^[A-Z][A-Z0-9_]+$")


async def validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    details = _validation_details(exc)
    coded = next((d for d in details if _OWN_CODE.match(d["type"])), None)
    if coded is not None:
        return error_response(422, coded["type"], coded["msg"], details)
    return error_response(422, "VALIDATION_ERROR", "The request is not valid.", details)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    code = HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        message = "The resource was not found."
    elif exc.status_code == 405:
        message = "This method is not allowed on this resource."
        # Routes outside the spec (the docs) fall back to the router's own Allow header;
        # HEAD is answered wherever GET is (RequestContextMiddleware), so it is listed too.
        allowed = set(allowed_methods(request)) or {
            m.strip() for m in headers.get("Allow", "").split(",") if m.strip()
        }
        if "GET" in allowed:
            allowed.add("HEAD")
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
    return error_response(exc.status_code, code, message, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method the path supports, across routers (Starlette reports only the first
    route that matched the path)."""
    table: list[tuple[re.Pattern[str], list[str]]] | None = getattr(
        request.app.state, "allow_table", None
    )
    if table is None:
        table = []
        for path, item in request.app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$")
            table.append((pattern, sorted(m.upper() for m in item)))
        request.app.state.allow_table = table
    methods = {m for pattern, ms in table if pattern.match(request.url.path) for m in ms}
    return sorted(methods | ({"HEAD"} if "GET" in methods else set()))


async def rate_limit_handler(request: Request, exc: Exception) -> JSONResponse:
    response = error_response(429, "RATE_LIMITED", "Too many requests; slow down.")
    limiter = request.app.state.limiter
    view_rate_limit = getattr(request.state, "view_rate_limit", None)
    if view_rate_limit is not None:
        response = limiter._inject_headers(response, view_rate_limit)
    if "Retry-After" not in response.headers:  # the limiter's storage could not say when
        limit = getattr(getattr(exc, "limit", None), "limit", None)
        response.headers["Retry-After"] = str(limit.get_expiry() if limit is not None else 60)
    return response


async def database_unavailable_handler(_: Request, exc: Exception) -> JSONResponse:
    log.error("database_unavailable", error=type(exc).__name__)
    return error_response(
        503,
        "DATABASE_UNAVAILABLE",
        "The database is unavailable; try again shortly.",
        headers={"Retry-After": "5"},
    )


async def unhandled_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """Renders the 500 only. `RequestContextMiddleware` logs (once) every exception raised
    inside it; one that reaches this handler came from outside it, and Starlette re-raises
    it after this response so the server logs it — through our formatter, once."""
    return error_response(500, "INTERNAL_ERROR", "An unexpected error occurred.")


def register_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(RateLimitExceeded, rate_limit_handler)
    app.add_exception_handler(ConnectionFailure, database_unavailable_handler)
    app.add_exception_handler(Exception, unhandled_error_handler)
