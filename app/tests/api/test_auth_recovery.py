"""Auth flows, continued: e-mail verification, password reset, rate limits and the client
IP they count by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient

from app import email
from app.models.email import OutboxEmail
from app.models.user import User
from app.tests.api.auth_helpers import bearer, login, outbox_token, register, token_pair
from app.tests.errors import assert_error

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
    pair = await token_pair(client)
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
