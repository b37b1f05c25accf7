"""Every auth flow, over HTTP, including the hostile ones."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from jose import jwt

from app.core.config import Settings
from app.core.security import TokenType, create_token
from app.models.auth import LoginThrottle
from app.models.user import User
from app.tests.api.auth_helpers import (
    PASSWORD,
    backdate_rotation,
    bearer,
    login,
    register,
    token_pair,
)
from app.tests.errors import assert_error

# --- register -------------------------------------------------------------------------------


async def test_register_normalises_email_and_hides_hash(client: AsyncClient) -> None:
    response = await register(client)
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ada@example.org"
    assert body["role"] == "entrepreneur"
    assert body["is_verified"] is False
    assert "password" not in json.dumps(body)
    stored = await User.find_one(User.email == "ada@example.org")
    assert stored is not None
    assert stored.password_hash.startswith("$argon2")


async def test_register_duplicate_email_case_insensitive_is_409(client: AsyncClient) -> None:
    assert (await register(client)).status_code == 201
    response = await register(client, email="ADA@example.ORG")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "EMAIL_TAKEN"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 10"),
        ("x" * 129, "at most 128"),
        ("password123", "too common"),
        ("ada@example.org", "e-mail"),
    ],
)
async def test_register_password_policy(client: AsyncClient, password: str, reason: str) -> None:
    response = await register(client, password=password)
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "WEAK_PASSWORD"
    assert any(reason in d["msg"] for d in body["error"]["details"])
    assert await User.find_all().count() == 0


async def test_register_rejects_unknown_fields(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "x@example.org", "password": PASSWORD, "full_name": "X", "role": "admin"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert await User.find_all().count() == 0


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_register": "1000/minute"}])
async def test_concurrent_duplicate_registration_creates_one_account(client: AsyncClient) -> None:
    responses = await asyncio.gather(*(register(client) for _ in range(50)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1
    assert codes.count(409) == 49
    assert await User.find(User.email == "ada@example.org").count() == 1


# --- login ----------------------------------------------------------------------------------


async def test_login_form_and_json_return_tokentoken_pair(
    client: AsyncClient, settings: Settings
) -> None:
    await register(client)
    form = await client.post(
        "/api/v1/auth/login", data={"username": "ADA@example.org", "password": PASSWORD}
    )
    assert form.status_code == 200
    pair = form.json()
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 15 * 60
    claims = jwt.get_unverified_claims(pair["access_token"])
    assert {"sub", "role", "type", "jti", "iat", "exp", "iss", "aud"} <= set(claims)
    assert claims["type"] == "access"
    assert claims["role"] == "entrepreneur"
    assert claims["exp"] - claims["iat"] == 15 * 60
    refresh_claims = jwt.get_unverified_claims(pair["refresh_token"])
    assert refresh_claims["exp"] - refresh_claims["iat"] == 7 * 86400
    as_json = await login(client)
    assert as_json.status_code == 200
    me = await client.get("/api/v1/users/me", headers=bearer(as_json.json()["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.org"


async def test_wrong_password_and_unknown_email_answer_alike(client: AsyncClient) -> None:
    await register(client)
    wrong = await login(client, password="not-the-password-1")
    unknown = await login(client, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"] == unknown.json()["error"]
    assert wrong.json()["error"]["code"] == "INVALID_CREDENTIALS"


async def test_throttled_after_five_failures_and_success_resets(client: AsyncClient) -> None:
    """No hard lockout (it was a denial-of-service tool): after five failures from one
    client, that client backs off; see test_account_abuse.py for the rest of the design."""
    await register(client)
    for _ in range(2):
        assert_error(
            (await login(client, password="wrong-password-00")), 401, "INVALID_CREDENTIALS"
        )
    assert (await login(client)).status_code == 200  # success resets this client's count
    for _ in range(4):
        assert (await login(client, password="wrong-password-00")).status_code == 401
    fifth = await login(client, password="wrong-password-00")
    assert fifth.status_code == 429
    assert fifth.json()["error"]["code"] == "LOGIN_THROTTLED"
    retry_after = int(fifth.headers["retry-after"])
    assert 0 < retry_after <= 30
    raw_unlock = fifth.json()["error"]["details"][0]["unlock_at"]
    assert raw_unlock.endswith("Z")  # one datetime format, error details included
    unlock_at = datetime.fromisoformat(raw_unlock)
    assert timedelta(seconds=0) < unlock_at - datetime.now(UTC) <= timedelta(seconds=31)
    # While it runs, even the right password from this client waits (no check is made).
    waiting = await login(client)
    assert waiting.status_code == 429
    assert waiting.json()["error"]["code"] == "LOGIN_THROTTLED"


async def test_throttle_expires(client: AsyncClient) -> None:
    await register(client)
    for _ in range(5):
        await login(client, password="wrong-password-00")
    assert_error((await login(client)), 429, "LOGIN_THROTTLED")
    await LoginThrottle.find_all().update(
        {"$set": {"blocked_until": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    assert (await login(client)).status_code == 200


# --- tokens ---------------------------------------------------------------------------------


def _forge(claims: dict, key: str = "x", alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


async def test_hostile_tokens_are_401(client: AsyncClient, settings: Settings) -> None:
    pair = await token_pair(client)
    access = pair["access_token"]
    claims = jwt.get_unverified_claims(access)
    header, _payload, signature = access.split(".")
    escalated = dict(claims, role="admin")
    tampered_payload = base64.urlsafe_b64encode(json.dumps(escalated).encode()).decode().rstrip("=")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    key = settings.secret_key.get_secret_value()
    expired, _ = create_token(
        settings,
        subject=claims["sub"],
        role="entrepreneur",
        token_type=TokenType.access,
        session_id=claims["sid"],
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    wrong_audience = _forge(dict(claims, aud="someone-else"), key)
    wrong_issuer = _forge(dict(claims, iss="evil"), key)
    cases = {
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "alg_none": f"{none_header}.{tampered_payload}.",
        "wrong_key": _forge(escalated, "another-secret-key-that-is-long-enough"),
        "expired": expired,
        "refresh_as_access": pair["refresh_token"],
        "wrong_audience": wrong_audience,
        "wrong_issuer": wrong_issuer,
        "garbage": "not-a-jwt",
    }
    for name, token in cases.items():
        response = await client.get("/api/v1/users/me", headers=bearer(token))
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "INVALID_TOKEN", name
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"', name


async def test_access_token_as_refresh_is_401(client: AsyncClient) -> None:
    pair = await token_pair(client)
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["access_token"]}
    )
    assert_error(response, 401, "INVALID_TOKEN")


async def test_missing_token_is_401(client: AsyncClient) -> None:
    response = await client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"
    assert response.headers["www-authenticate"] == "Bearer"  # no token: no error attribute


async def test_refresh_rotates_and_reuse_revokes_family(client: AsyncClient) -> None:
    pair = await token_pair(client)
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != pair["refresh_token"]
    assert (
        await client.get("/api/v1/users/me", headers=bearer(rotated["access_token"]))
    ).status_code == 200
    # Replay of the old refresh token after the reuse grace window: refused, and the whole
    # session dies (within the window it is two tabs: tests/api/test_token_rotation.py).
    await backdate_rotation(seconds=31)
    replay = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert_error(replay, 401, "INVALID_TOKEN")
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert_error(again, 401, "INVALID_TOKEN")
    me = await client.get("/api/v1/users/me", headers=bearer(rotated["access_token"]))
    assert_error(me, 401, "INVALID_TOKEN")


async def test_logout_revokes_access_and_refresh(client: AsyncClient) -> None:
    pair = await token_pair(client)
    other = (await login(client)).json()  # a second session survives
    response = await client.post(
        "/api/v1/auth/logout",
        headers=bearer(pair["access_token"]),
        json={"refresh_token": pair["refresh_token"]},
    )
    assert response.status_code == 204
    assert (
        await client.get("/api/v1/users/me", headers=bearer(pair["access_token"]))
    ).status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert_error(refreshed, 401, "INVALID_TOKEN")
    assert (
        await client.get("/api/v1/users/me", headers=bearer(other["access_token"]))
    ).status_code == 200


async def test_logout_without_body(client: AsyncClient) -> None:
    pair = await token_pair(client)
    response = await client.post("/api/v1/auth/logout", headers=bearer(pair["access_token"]))
    assert response.status_code == 204
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 401


async def test_deactivated_user_tokens_stop_working(client: AsyncClient, admin) -> None:
    pair = await token_pair(client)
    user = await User.find_one(User.email == "ada@example.org")
    response = await client.patch(
        f"/api/v1/admin/users/{user.id}", headers=admin.headers, json={"is_active": False}
    )
    assert response.status_code == 200
    assert (
        await client.get("/api/v1/users/me", headers=bearer(pair["access_token"]))
    ).status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 401
    relogin = await login(client)
    assert relogin.status_code == 403
    assert relogin.json()["error"]["code"] == "ACCOUNT_DISABLED"
