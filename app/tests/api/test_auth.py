"""Every auth flow, over HTTP, including the hostile ones."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from jose import jwt

from app import email
from app.core.config import Settings
from app.core.security import TokenType, create_token
from app.models.auth import LoginThrottle
from app.models.email import OutboxEmail
from app.models.user import User
from app.tests.errors import assert_error

PASSWORD = "a-long-enough-secret-42"


async def register(client: AsyncClient, email: str = "Ada@Example.org", password: str = PASSWORD):
    return await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": password, "full_name": "Ada Lovelace"},
    )


async def login(client: AsyncClient, email: str = "ada@example.org", password: str = PASSWORD):
    return await client.post("/api/v1/auth/login/json", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def outbox_token(address: str, template: str) -> str:
    await email.drain()  # mail is sent off the request path
    mail = (
        await OutboxEmail.find(OutboxEmail.to == address, OutboxEmail.template == template)
        .sort("-created_at")
        .first_or_none()
    )
    assert mail is not None, f"no {template} mail for {address}"
    match = re.search(r"token=([A-Za-z0-9_-]+)", mail.body)
    assert match
    return match.group(1)


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


async def test_login_form_and_json_return_token_pair(
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
    unlock_at = datetime.fromisoformat(fifth.json()["error"]["details"][0]["unlock_at"])
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


async def _pair(client: AsyncClient) -> dict[str, str]:
    await register(client)
    response = await login(client)
    assert response.status_code == 200
    return response.json()


def _forge(claims: dict, key: str = "x", alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


async def test_hostile_tokens_are_401(client: AsyncClient, settings: Settings) -> None:
    pair = await _pair(client)
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
        assert response.headers["www-authenticate"] == "Bearer"


async def test_access_token_as_refresh_is_401(client: AsyncClient) -> None:
    pair = await _pair(client)
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["access_token"]}
    )
    assert_error(response, 401, "INVALID_TOKEN")


async def test_missing_token_is_401(client: AsyncClient) -> None:
    response = await client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"


async def test_refresh_rotates_and_reuse_revokes_family(client: AsyncClient) -> None:
    pair = await _pair(client)
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != pair["refresh_token"]
    assert (
        await client.get("/api/v1/users/me", headers=bearer(rotated["access_token"]))
    ).status_code == 200
    # Replay of the old refresh token: refused, and the whole session dies.
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
    pair = await _pair(client)
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
    pair = await _pair(client)
    response = await client.post("/api/v1/auth/logout", headers=bearer(pair["access_token"]))
    assert response.status_code == 204
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 401


async def test_deactivated_user_tokens_stop_working(client: AsyncClient, admin) -> None:
    pair = await _pair(client)
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


# --- e-mail verification and password reset --------------------------------------------------


async def test_verify_email_single_use(client: AsyncClient) -> None:
    await register(client)
    token = await outbox_token("ada@example.org", "verify_email")
    assert (
        await client.post("/api/v1/auth/verify-email", json={"token": token})
    ).status_code == 204
    assert (await User.find_one(User.email == "ada@example.org")).is_verified
    reused = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "INVALID_TOKEN"


async def test_resend_verification_invalidates_old_link(client: AsyncClient) -> None:
    """Public like forgot-password (an e-mail, no login): always 202, mail only when useful."""
    await register(client)
    old = await outbox_token("ada@example.org", "verify_email")
    url = "/api/v1/auth/resend-verification"
    response = await client.post(url, json={"email": "ADA@example.org"})
    unknown = await client.post(url, json={"email": "nobody@example.org"})
    assert response.status_code == unknown.status_code == 202
    assert response.content == unknown.content
    new = await outbox_token("ada@example.org", "verify_email")
    assert new != old
    assert_error(
        (await client.post("/api/v1/auth/verify-email", json={"token": old})), 422, "INVALID_TOKEN"
    )
    assert (await client.post("/api/v1/auth/verify-email", json={"token": new})).status_code == 204
    again = await client.post(url, json={"email": "ada@example.org"})
    assert again.status_code == 202  # already verified: same answer, no mail
    await email.drain()
    assert await OutboxEmail.find(OutboxEmail.template == "verify_email").count() == 2


async def test_forgot_password_same_answer_for_unknown(client: AsyncClient) -> None:
    await register(client)
    known = await client.post("/api/v1/auth/forgot-password", json={"email": "ada@example.org"})
    unknown = await client.post("/api/v1/auth/forgot-password", json={"email": "who@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    await email.drain()
    assert await OutboxEmail.find(OutboxEmail.to == "who@example.org").count() == 0
    assert await OutboxEmail.find(OutboxEmail.to == "ada@example.org").count() == 2


async def test_reset_password_flow_revokes_sessions(client: AsyncClient) -> None:
    pair = await _pair(client)
    await client.post("/api/v1/auth/forgot-password", json={"email": "ada@example.org"})
    token = await outbox_token("ada@example.org", "reset_password")
    weak = await client.post(
        "/api/v1/auth/reset-password", json={"token": token, "new_password": "short"}
    )
    assert_error(weak, 422, "WEAK_PASSWORD")  # and the link is not burnt by a rejected password
    new_password = "brand-new-password-77"
    done = await client.post(
        "/api/v1/auth/reset-password", json={"token": token, "new_password": new_password}
    )
    assert done.status_code == 204
    assert (
        await client.get("/api/v1/users/me", headers=bearer(pair["access_token"]))
    ).status_code == 401
    assert_error((await login(client)), 401, "INVALID_CREDENTIALS")
    assert (await login(client, password=new_password)).status_code == 200
    reuse = await client.post(
        "/api/v1/auth/reset-password", json={"token": token, "new_password": "another-password-88"}
    )
    assert_error(reuse, 422, "INVALID_TOKEN")


async def test_expired_reset_token_refused(client: AsyncClient) -> None:
    from app.models.auth import OneTimeToken

    await register(client)
    await client.post("/api/v1/auth/forgot-password", json={"email": "ada@example.org"})
    token = await outbox_token("ada@example.org", "reset_password")
    await OneTimeToken.find_all().update(
        {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    response = await client.post(
        "/api/v1/auth/reset-password",
        json={"token": token, "new_password": "brand-new-password-77"},
    )
    assert_error(response, 422, "INVALID_TOKEN")


async def test_tokens_stored_hashed(client: AsyncClient) -> None:
    from app.models.auth import OneTimeToken

    await register(client)
    token = await outbox_token("ada@example.org", "verify_email")
    stored = await OneTimeToken.find_all().to_list()
    assert stored
    assert all(token not in doc.token_hash for doc in stored)


# --- rate limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_login": "3/minute"}])
async def test_login_rate_limit_per_ip(client: AsyncClient) -> None:
    codes = [(await login(client, email=f"u{i}@example.org")).status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]
    response = await login(client)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert int(response.headers["retry-after"]) > 0


@pytest.mark.parametrize("settings_overrides", [{"login_client_max_failures": 3}])
async def test_login_throttle_is_per_account(client: AsyncClient) -> None:
    await register(client)
    for _ in range(3):
        await login(client, password="wrong-password-00")
    response = await login(client)
    assert_error(response, 429, "LOGIN_THROTTLED")
    assert int(response.headers["retry-after"]) > 0
    # Another account from the same IP is not affected.
    assert_error((await login(client, email="other@example.org")), 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize(
    "settings_overrides",
    [{"rate_limit_forgot_password": "2/minute", "trusted_proxies": ["203.0.113.10"]}],
)
async def test_forwarded_for_only_from_trusted_proxy(client: AsyncClient) -> None:
    url = "/api/v1/auth/forgot-password"
    body = {"email": "x@example.org"}
    for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        for _ in range(2):
            r = await client.post(url, json=body, headers={"X-Forwarded-For": ip})
            assert r.status_code == 202
    blocked = await client.post(url, json=body, headers={"X-Forwarded-For": "198.51.100.1"})
    assert_error(blocked, 429, "RATE_LIMITED")


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_forgot_password": "2/minute"}])
async def test_forwarded_for_ignored_without_trusted_proxy(client: AsyncClient) -> None:
    url = "/api/v1/auth/forgot-password"
    body = {"email": "x@example.org"}
    codes = [
        (
            await client.post(url, json=body, headers={"X-Forwarded-For": f"198.51.100.{i}"})
        ).status_code
        for i in range(3)
    ]
    assert codes == [202, 202, 429]
