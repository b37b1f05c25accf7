"""The e-mail service against a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import asyncio

import pytest
from aiosmtpd.controller import Controller
from httpx import AsyncClient

from app.models.email import OutboxEmail
from app.tests.net import Inbox, free_port

SMTP_PORT = free_port()


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield handler
    controller.stop()


@pytest.mark.parametrize(
    "settings_overrides",
    [{"smtp_host": "127.0.0.1", "smtp_port": SMTP_PORT, "smtp_starttls": False}],
)
async def test_verification_mail_goes_over_smtp(inbox: Inbox, client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "smtp@example.org", "password": "a-long-enough-secret-42", "full_name": "S"},
    )
    assert response.status_code == 201
    for _ in range(100):  # delivery runs in the background
        if inbox.messages:
            break
        await asyncio.sleep(0.05)
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["smtp@example.org"]
    body = envelope.content.decode()
    assert "Subject: Confirm your RunWei e-mail address" in body
    assert "verify-email?token=" in body
    assert await OutboxEmail.find_all().count() == 0


@pytest.mark.parametrize(
    "settings_overrides", [{"smtp_host": "127.0.0.1", "smtp_port": 1, "smtp_starttls": False}]
)
async def test_smtp_down_does_not_break_the_request(client: AsyncClient, capfd) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "down@example.org", "password": "a-long-enough-secret-42", "full_name": "D"},
    )
    assert response.status_code == 201  # the account exists; the failure is logged
    for _ in range(50):
        await asyncio.sleep(0.05)
        err = capfd.readouterr().err
        if "email_failed" in err:
            break
    assert "email_failed" in err
    assert "a-long-enough-secret-42" not in err
