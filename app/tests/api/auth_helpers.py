"""Helpers for the auth tests: register, log in, read a token from the outbox."""

from __future__ import annotations

import re
from datetime import timedelta

from httpx import AsyncClient

from app import email
from app.models.auth import AuthSession
from app.models.base import utcnow
from app.models.email import OutboxEmail

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


async def token_pair(client: AsyncClient) -> dict[str, str]:
    """Register Ada and log her in: the token pair."""
    await register(client)
    response = await login(client)
    assert response.status_code == 200
    pair: dict[str, str] = response.json()
    return pair


async def backdate_rotation(seconds: int) -> None:
    """Move every session's last rotation `seconds` into the past (the clock, not the data:
    what a replay `seconds` after the rotation would see)."""
    await AuthSession.get_motor_collection().update_many(
        {"rotated_at": {"$ne": None}},
        {"$set": {"rotated_at": utcnow() - timedelta(seconds=seconds)}},
    )
