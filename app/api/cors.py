"""CORS, as the outermost middleware: every response to an allowed origin carries the CORS
headers — including the ones refused before routing (413 by Content-Length, a malformed
query string, 404, 405) and the last-resort 500 — so a browser page reads the error instead
of "Failed to fetch". Preflights (OPTIONS with Access-Control-Request-Method) are answered
here, before the request context (no request id or access-log line for them)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.core.config import Settings
from app.core.ratelimit import POLICY_HEADER, RATE_LIMIT_HEADERS

ALLOW_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Every request header an operation reads (a test walks the spec's header parameters):
# `Last-Event-ID` is how a fetch-based EventSource (one that can send Authorization)
# resumes the notification stream.
ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Last-Event-ID",
    "X-Request-ID",
]
# What a page's script may read from a response (beyond the CORS-safelisted ones).
EXPOSE_HEADERS = [
    "ETag",
    "Location",
    "Retry-After",
    "X-Request-ID",
    "Content-Disposition",
    "WWW-Authenticate",
    "Allow",  # what a 405 (and OPTIONS without a preflight) says the resource takes
    *RATE_LIMIT_HEADERS,
    POLICY_HEADER,
]


def add_cors(app: FastAPI, settings: Settings) -> None:
    """Call last in `create_app`: the middleware added last is the outermost."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=settings.cors_allow_credentials,
        allow_methods=ALLOW_METHODS,
        allow_headers=ALLOW_HEADERS,
        expose_headers=EXPOSE_HEADERS,
        max_age=600,
    )
