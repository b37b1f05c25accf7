"""CORS on every response for an allowed origin — including responses refused before
routing — and never for a hostile one."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.tests.failing_app import PREFIX, add_failing_routes

ALLOWED = "http://localhost:5173"  # in the default CORS_ORIGINS
HOSTILE = "https://evil.example"

# (what, method, url, extra request arguments, expected status)
CASES: list[tuple[str, str, str, dict[str, Any], int]] = [
    ("ok", "GET", "/api/v1/health/live", {}, 200),
    ("unknown path", "GET", "/api/v1/nowhere", {}, 404),
    ("method not allowed", "PUT", "/api/v1/health/live", {}, 405),
    ("malformed query", "GET", "/api/v1/opportunities?q=%zz", {}, 400),
    ("operator query", "GET", "/api/v1/opportunities?status[$ne]=x", {}, 422),
    ("unknown parameter", "GET", "/api/v1/opportunities?nope=1", {}, 422),
    ("no token", "GET", "/api/v1/users/me", {}, 401),
    (
        "too large by Content-Length",
        "POST",
        "/api/v1/auth/login/json",
        {"content": b"x" * 1_048_577, "headers": {"Content-Type": "application/json"}},
        413,
    ),
    ("unexpected error", "POST", f"{PREFIX}/boom", {"json": {"a": 1}}, 500),
]


@pytest.fixture
def failing(app: FastAPI) -> FastAPI:
    add_failing_routes(app)
    return app


async def _send(
    client: AsyncClient, origin: str, method: str, url: str, extra: dict[str, Any]
) -> Response:
    """One case's request from `origin` (a case may add headers of its own)."""
    extra = dict(extra)
    headers = {"Origin": origin, **extra.pop("headers", {})}
    return await client.request(method, url, headers=headers, **extra)


@pytest.mark.parametrize(
    ("what", "method", "url", "extra", "status"), CASES, ids=[c[0] for c in CASES]
)
async def test_allowed_origin_reads_every_response(
    failing: FastAPI,
    client: AsyncClient,
    what: str,
    method: str,
    url: str,
    extra: dict[str, Any],
    status: int,
) -> None:
    response = await _send(client, ALLOWED, method, url, extra)
    assert response.status_code == status, response.text
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "origin" in response.headers["vary"].lower()
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert exposed >= {
        "etag",
        "location",
        "retry-after",
        "x-request-id",
        "content-disposition",
        "www-authenticate",
        "allow",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "ratelimit-policy",
    }
    if status >= 400:
        assert response.json()["error"]["code"]  # the page can read why
    if status == 405:
        assert "GET" in response.headers["allow"]  # and which methods would do


@pytest.mark.parametrize(
    ("what", "method", "url", "extra", "status"), CASES, ids=[c[0] for c in CASES]
)
async def test_hostile_origin_gets_no_cors_headers(
    failing: FastAPI,
    client: AsyncClient,
    what: str,
    method: str,
    url: str,
    extra: dict[str, Any],
    status: int,
) -> None:
    response = await _send(client, HOSTILE, method, url, extra)
    assert response.status_code == status
    # Without Access-Control-Allow-Origin the browser hides the response from the page.
    assert "access-control-allow-origin" not in response.headers


async def test_preflight_for_an_allowed_origin(client: AsyncClient) -> None:
    response = await client.options(
        "/api/v1/opportunities/abc",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "PATCH" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "if-match" in allowed
    assert "authorization" in allowed


async def test_preflight_allows_every_request_header_the_api_reads(
    app: FastAPI, client: AsyncClient
) -> None:
    """A header parameter the browser may not send cross-origin is one no SPA can use
    (e.g. `Last-Event-ID` to resume the notification stream with a fetch-based EventSource,
    which can send the bearer token a plain EventSource cannot)."""
    read: set[tuple[str, str, str]] = set()
    for path, item in app.openapi()["paths"].items():
        for method, op in item.items():
            for parameter in op.get("parameters", []):
                if parameter["in"] == "header":
                    read.add((method.upper(), path, parameter["name"]))
    assert ("GET", "/api/v1/notifications/stream", "last-event-id") in read
    for method, path, header in sorted(read):
        response = await client.options(
            path,
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": f"authorization, content-type, {header}",
            },
        )
        assert response.status_code == 200, (method, path, header, response.text)
        assert header in response.headers["access-control-allow-headers"].lower()


async def test_preflight_for_a_hostile_origin_is_refused(client: AsyncClient) -> None:
    response = await client.options(
        "/api/v1/users/me",
        headers={"Origin": HOSTILE, "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_rate_limit_and_retry_after_are_readable(client: AsyncClient) -> None:
    """A 429 from the per-IP limit: the page can read when to retry."""
    body = {"email": "nobody@example.org"}
    answers = [
        await client.post("/api/v1/auth/forgot-password", json=body, headers={"Origin": ALLOWED})
        for _ in range(6)
    ]
    assert [a.status_code for a in answers] == [202] * 5 + [429]
    limited = answers[-1]
    assert limited.headers["access-control-allow-origin"] == ALLOWED
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["ratelimit-remaining"] == "0"
    # IETF RateLimit fields, integers; Reset in delta-seconds (not an epoch).
    for answer in answers:
        assert answer.headers["ratelimit-limit"] == "5"
        assert 0 <= int(answer.headers["ratelimit-reset"]) <= 60
        assert answer.headers["ratelimit-policy"] == "5;w=60"
    assert "retry-after" not in answers[0].headers  # on the 429 only


async def test_a_429_says_when_to_retry_even_when_the_limiter_cannot_count(
    app: FastAPI, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The RateLimit fields are best effort (the limiter's storage may not answer);
    Retry-After is not: the limit's window then."""
    body = {"email": "nobody@example.org"}
    for _ in range(5):
        await client.post("/api/v1/auth/forgot-password", json=body)

    def unavailable(*_: Any) -> None:
        raise ConnectionError("storage down")

    monkeypatch.setattr(app.state.limiter.limiter, "get_window_stats", unavailable)
    limited = await client.post("/api/v1/auth/forgot-password", json=body)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "60"  # 5 per minute
    assert "ratelimit-remaining" not in limited.headers
