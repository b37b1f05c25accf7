"""Helpers for hostile-input tests: the error-shape check and raw ASGI requests."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI
from starlette.types import Message


def assert_answered(response: httpx.Response) -> dict[str, Any] | None:
    """A success, or a 4xx in the common error shape; returns the error body."""
    assert response.status_code < 500, response.text
    if response.status_code < 400:
        return None
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"].isupper()
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def with_params(url: str, **params: str) -> str:
    sep = "&" if "?" in url else "?"
    return url + sep + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


async def raw_get(app: FastAPI, path: str, query: bytes, headers: dict[str, str]) -> httpx.Response:
    """GET straight through the ASGI app, so the query string's bytes are exactly `query`
    (an HTTP client would refuse or re-encode some of them)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("203.0.113.10", 51000),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return httpx.Response(start["status"], headers=start["headers"], content=body)
