"""The common error shape, request ids, CORS, security headers, body limits and logs."""

from __future__ import annotations

import json

import pytest
from httpx import AsyncClient

from app.main import create_app
from app.tests.conftest import make_settings


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_404_405_422_shapes(client: AsyncClient) -> None:
    assert_error_shape(await client.get("/api/v1/nope"), 404, "NOT_FOUND")
    assert_error_shape(await client.delete("/api/v1/health/live"), 405, "METHOD_NOT_ALLOWED")
    body = assert_error_shape(
        await client.post("/api/v1/auth/register", json={"email": "not-an-email"}),
        422,
        "VALIDATION_ERROR",
    )
    locs = {tuple(d["loc"]) for d in body["error"]["details"]}
    assert ("body", "email") in locs
    assert ("body", "password") in locs


async def test_malformed_json_is_422(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login/json",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert_error_shape(response, 422, "VALIDATION_ERROR")


async def test_500_never_leaks(app, client: AsyncClient) -> None:
    @app.get("/api/v1/_boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail: db password hunter2")

    response = await client.get("/api/v1/_boom")
    body = assert_error_shape(response, 500, "INTERNAL_ERROR")
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert body["error"]["message"] == "An unexpected error occurred."


async def test_request_id_echoed_or_generated(client: AsyncClient) -> None:
    given = await client.get("/api/v1/health/live", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = await client.get("/api/v1/health/live", headers={"X-Request-ID": "bad id\x7f" * 20})
    assert generated.headers["x-request-id"] != "abc-123"
    assert len(generated.headers["x-request-id"]) == 32


async def test_security_headers(client: AsyncClient) -> None:
    response = await client.get("/api/v1/health/live")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in response.headers


async def test_hsts_in_production() -> None:
    from httpx import ASGITransport

    settings = make_settings(
        environment="production",
        secret_key="p" * 40,
        mongodb_url="mongodb://127.0.0.1:1/x",
        public_base_url="https://api.runwei.example",
    )
    app = create_app(settings)  # no lifespan needed for /health/live
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/api/v1/health/live")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_cors_preflight_allowed_origin(client: AsyncClient) -> None:
    response = await client.options(
        "/api/v1/auth/login/json",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_cors_preflight_unknown_origin(client: AsyncClient) -> None:
    response = await client.options(
        "/api/v1/auth/login/json",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "origin",
    [
        "null",  # sandboxed iframes, file: and data: pages — anyone's
        "https://app.example.org/",  # never matches: browsers send no trailing slash
        "https://app.example.org/spa",
        "app.example.org",
        "https://*.example.org",
    ],
)
def test_cors_origins_must_be_origins(origin: str) -> None:
    with pytest.raises(ValueError, match="is not an origin"):
        make_settings(cors_origins=f"http://localhost:5173,{origin}")


def test_cors_origins_are_matched_as_browsers_send_them() -> None:
    settings = make_settings(cors_origins="https://App.Example.org, http://[::1]:5173")
    assert settings.cors_origins == ["https://app.example.org", "http://[::1]:5173"]


def test_wildcard_origin_with_credentials_refused() -> None:
    with pytest.raises(ValueError, match="cannot be combined"):
        make_settings(cors_origins="*", cors_allow_credentials=True)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"mongodb_url": "mongodb://db/x"}, "development default"),
        ({"secret_key": "short-key", "mongodb_url": "mongodb://db/x"}, "at least 32 bytes"),
        ({"secret_key": "k" * 40}, "MONGODB_URL is required"),
        (
            {"secret_key": "k" * 40, "mongodb_url": "mongodb://db/x"},
            "PUBLIC_BASE_URL must be https",
        ),
    ],
)
def test_production_refuses_unsafe_config(monkeypatch, overrides: dict, reason: str) -> None:
    from app.core.config import get_settings
    from app.main import load_settings

    monkeypatch.setenv("ENVIRONMENT", "production")
    for key, value in overrides.items():
        monkeypatch.setenv(key.upper(), value)
    monkeypatch.chdir("/")  # no .env
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exc:
            load_settings()
    finally:
        get_settings.cache_clear()
    message = str(exc.value)
    assert reason in message
    assert "\n" not in message


async def test_body_too_large(client: AsyncClient, settings) -> None:
    big = b'{"email": "' + b"a" * (settings.max_body_bytes + 10) + b'"}'
    response = await client.post(
        "/api/v1/auth/forgot-password", content=big, headers={"content-type": "application/json"}
    )
    assert_error_shape(response, 413, "PAYLOAD_TOO_LARGE")


async def test_body_too_large_when_streamed_without_length(client: AsyncClient, settings) -> None:
    async def chunks():
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"a" * 65536

    response = await client.post(
        "/api/v1/auth/forgot-password",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert_error_shape(response, 413, "PAYLOAD_TOO_LARGE")


async def test_query_operator_injection_rejected(client: AsyncClient, admin) -> None:
    response = await client.get("/api/v1/admin/users?q[$ne]=x", headers=admin.headers)
    assert_error_shape(response, 422, "INVALID_QUERY")


@pytest.mark.parametrize("settings_overrides", [{"log_level": "DEBUG"}])
async def test_access_log_line_and_no_secrets(client: AsyncClient, capfd) -> None:
    password = "super-secret-password-42"
    await client.post(
        "/api/v1/auth/register",
        json={"email": "log@example.org", "password": password, "full_name": "Log"},
    )
    login = await client.post(
        "/api/v1/auth/login/json", json={"email": "log@example.org", "password": password}
    )
    tokens = login.json()
    await client.get(
        "/api/v1/users/me",
        headers={"Authorization": f"Bearer {tokens['access_token']}", "X-Request-ID": "req-42"},
    )
    await client.post("/api/v1/auth/forgot-password", json={"email": "log@example.org"})
    err = capfd.readouterr().err
    assert password not in err
    assert tokens["access_token"] not in err
    assert tokens["refresh_token"] not in err
    from app.models.email import OutboxEmail

    for mail in await OutboxEmail.find_all().to_list():
        secret = mail.body.split("token=")[1].split()[0]
        assert secret not in err
    line = next((ln for ln in err.splitlines() if "req-42" in ln and "request " in ln), "")
    for field in ("method", "path", "status=200", "duration_ms", "user_id"):
        assert field in line


async def test_production_logs_are_json(capfd) -> None:
    from httpx import ASGITransport

    settings = make_settings(
        environment="production",
        secret_key="p" * 40,
        mongodb_url="mongodb://127.0.0.1:1/x",
        public_base_url="https://api.runwei.example",
        log_level="INFO",
    )
    app = create_app(settings)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        await c.get("/api/v1/health/live", headers={"X-Request-ID": "json-1"})
    lines = [json.loads(ln) for ln in capfd.readouterr().err.splitlines() if "json-1" in ln]
    access = next(ln for ln in lines if ln["event"] == "request")
    assert access["status"] == 200
    assert access["request_id"] == "json-1"
    assert access["method"] == "GET"
    assert access["path"] == "/api/v1/health/live"
    assert isinstance(access["duration_ms"], float)


async def test_405_lists_every_allowed_method(client: AsyncClient) -> None:
    """Found by schemathesis: Starlette's Allow header named only the first matching route."""
    response = await client.put("/api/v1/opportunities/64b7f0c2a1b2c3d4e5f60718")
    assert_error_shape(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "PATCH", "DELETE"}
    listing = await client.delete("/api/v1/opportunities")
    assert set(listing.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


async def test_undecodable_body_is_422_in_error_shape(client: AsyncClient) -> None:
    """Invalid UTF-8 is malformed JSON like any other (strict_json), not a generic 400."""
    response = await client.post(
        "/api/v1/auth/refresh", content=b"&\xff\xfeXH", headers={"content-type": "application/json"}
    )
    body = assert_error_shape(response, 422, "VALIDATION_ERROR")
    assert body["error"]["details"][0]["type"] == "json_invalid"
    assert "UTF-8" in body["error"]["details"][0]["msg"]
