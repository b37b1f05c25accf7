"""E-mail on the engine: jobs run as tasks (on the worker with Redis, never on the request
path), and a message key yields one e-mail however often its job is enqueued, retried or
redelivered — in the outbox and over SMTP."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from asgi_lifespan import LifespanManager

from app import email
from app.main import create_app
from app.models.auth import OneTimeToken, TokenPurpose
from app.models.email import OutboxEmail
from app.services import auth
from app.tasks import email as email_tasks
from app.tasks.runtime import TaskRuntime
from app.tests.factories import make_user
from app.tests.net import free_port
from app.tests.tasks.conftest import FAST_REDIS, Engine, engine_settings


class FlakyInbox:
    """An SMTP server that defers the first `refusals` messages (451), then accepts."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.attempts = 0
        self.accepted: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.attempts <= self.refusals:
            return "451 4.3.0 Try again later"
        self.accepted.append(envelope)
        return "250 OK"


SMTP_PORT = free_port()


@pytest.fixture
def inbox() -> Any:
    handler = FlakyInbox(refusals=1)
    controller = Controller(handler, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield handler
    controller.stop()


def verify_args(settings: Any, to: str) -> tuple[Any, ...]:
    return (settings, to, "Confirm", "verify_email")


CONTEXT: dict[str, Any] = {"full_name": "A", "link": "https://example.org/v", "hours": 1}


async def test_one_message_key_enqueued_twice_is_mailed_once(engine: Engine) -> None:
    key = f"digest:{uuid.uuid4().hex}"
    for _ in range(2):
        await email.enqueue_once(
            key, "verify", email.send, *verify_args(engine.settings, "a@example.org"), **CONTEXT
        )
    await engine.drain()
    assert await OutboxEmail.find(OutboxEmail.to == "a@example.org").count() == 1
    assert await OutboxEmail.find(OutboxEmail.message_key == key).count() == 1


@pytest.mark.parametrize("concurrent", [False, True], ids=["one-after-the-other", "at-once"])
async def test_a_redelivered_job_neither_mails_nor_issues_a_token_twice(
    engine: Engine, concurrent: bool
) -> None:
    """The same job message twice (what a redelivery looks like to the job): one e-mail and
    one token, so the link mailed stays the valid one."""
    user = await make_user(engine.settings, email="twice@example.org")
    key = uuid.uuid4().hex
    message: dict[str, Any] = {
        "key": key,
        "job": "password_reset",
        "target": email_tasks.job_reference(auth.send_password_reset),
        "args": [email_tasks.SETTINGS_MARKER, str(user.user.id)],
        "kwargs": {},
    }
    await email_tasks.run_job.kiq(**message)
    if not concurrent:
        await engine.drain()
    await email_tasks.run_job.kiq(**message)
    await engine.drain()
    assert await OutboxEmail.find(OutboxEmail.to == "twice@example.org").count() == 1
    tokens = OneTimeToken.find(
        OneTimeToken.user_id == user.user.id, OneTimeToken.purpose == TokenPurpose.reset_password
    )
    assert await tokens.count() == 1


@pytest.mark.parametrize(
    "engine_overrides", [{"smtp_host": "127.0.0.1", "smtp_port": SMTP_PORT, "smtp_starttls": False}]
)
async def test_a_deferred_smtp_send_is_retried_and_delivered_once(
    engine: Engine, inbox: FlakyInbox
) -> None:
    key = uuid.uuid4().hex
    await email.enqueue_once(
        key, "verify", email.send, *verify_args(engine.settings, "smtp@example.org"), **CONTEXT
    )
    await email.enqueue_once(  # and a duplicate, for good measure
        key, "verify", email.send, *verify_args(engine.settings, "smtp@example.org"), **CONTEXT
    )
    await engine.drain()
    assert inbox.attempts == 2  # deferred once, retried once
    assert len(inbox.accepted) == 1
    content = inbox.accepted[0].content.decode()
    assert f"Message-ID: <{key}@" in content  # stable across attempts
    assert await OutboxEmail.find_all().count() == 0


async def test_the_api_only_enqueues_the_worker_sends(redis_url: str, tmp_path: Any) -> None:
    settings = engine_settings("redis", tmp_path, redis_url)
    app = create_app(settings)
    async with LifespanManager(app):
        from httpx import ASGITransport, AsyncClient

        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
            response = await client.post(
                "/api/v1/auth/register",
                json={
                    "email": "new@example.org",
                    "password": "a-long-enough-secret-42",
                    "full_name": "N",
                },
            )
        assert response.status_code == 201
        await asyncio.sleep(0.3)
        assert await OutboxEmail.find_all().count() == 0  # nothing ran in the API process
        worker = TaskRuntime(settings, role="worker", broker_options=FAST_REDIS)
        await worker.start()
        try:
            await asyncio.wait_for(worker.drain(), 20)
        finally:
            await worker.close()
        mails = await OutboxEmail.find_all().to_list()
        assert [m.template for m in mails] == ["verify_email"]


async def test_an_unreachable_broker_does_not_fail_the_request(
    tmp_path: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = engine_settings("redis", tmp_path, f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(settings)  # the API starts without Redis: it only needs it to enqueue
    async with LifespanManager(app):
        from httpx import ASGITransport, AsyncClient

        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
            response = await client.post(
                "/api/v1/auth/forgot-password", json={"email": "x@example.org"}
            )
    assert response.status_code == 202
    assert "email_enqueue_failed" in capfd.readouterr().err
