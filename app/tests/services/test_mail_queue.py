"""The e-mail queue: jobs run off the request path, failures are logged, the lifespan drains
or cancels them at shutdown."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app import email
from app.email import MailQueue
from app.main import create_app
from app.models.email import OutboxEmail
from app.tests.conftest import make_settings
from app.tests.factories import make_user


async def test_failed_job_is_logged_without_its_message_and_others_still_run(
    app: FastAPI, capfd: pytest.CaptureFixture[str]
) -> None:
    done: list[str] = []

    async def broken() -> None:
        raise RuntimeError("smtp-password-hunter2")

    async def fine() -> None:
        done.append("fine")

    await email.enqueue("broken", broken)
    await email.enqueue("fine", fine)
    await email.drain()
    assert done == ["fine"]
    err = capfd.readouterr().err
    assert "email_job_failed" in err
    assert "RuntimeError" in err
    assert "hunter2" not in err


async def test_drain_waits_for_jobs_that_jobs_enqueue(app: FastAPI) -> None:
    done: list[str] = []

    async def inner() -> None:
        await asyncio.sleep(0.01)
        done.append("inner")

    async def outer() -> None:
        await email.enqueue("inner", inner)

    await email.enqueue("outer", outer)
    await email.drain()
    assert done == ["inner"]


async def test_without_a_running_app_jobs_run_at_once() -> None:
    done: list[str] = []

    async def job(value: str) -> None:
        done.append(value)

    await email.enqueue("job", job, "now")
    assert done == ["now"]


async def test_close_awaits_quick_jobs_and_cancels_slow_ones(
    capfd: pytest.CaptureFixture[str],
) -> None:
    queue = MailQueue()
    finished: list[str] = []

    async def quick() -> None:
        await asyncio.sleep(0.01)
        finished.append("quick")

    async def stuck() -> None:
        await asyncio.sleep(3600)
        finished.append("stuck")

    queue.submit("quick", quick())
    queue.submit("stuck", stuck())
    started = time.perf_counter()
    await queue.close(grace_seconds=0.2)
    assert time.perf_counter() - started < 2
    assert finished == ["quick"]
    assert queue.pending == 0
    assert "email_jobs_cancelled" in capfd.readouterr().err


async def test_lifespan_shutdown_finishes_queued_mail(tmp_path: Any) -> None:
    """A job still running when the app stops is awaited (within the grace period) before
    the database closes."""
    settings = make_settings(storage_local_dir=str(tmp_path))
    app = create_app(settings)

    async def slow_mail() -> None:
        await asyncio.sleep(0.2)
        await email.send(
            settings,
            "late@example.org",
            "Late",
            "verify_email",
            full_name="L",
            link="https://example.org",
            hours=1,
        )

    async with LifespanManager(app):
        await email.enqueue("slow", slow_mail)
        assert app.state.mail_queue.pending == 1
        collection = OutboxEmail.get_motor_collection()
    assert app.state.mail_queue.pending == 0
    assert await collection.count_documents({"to": "late@example.org"}) == 1


def _silent_smtp() -> socket.socket:
    """A port that accepts TCP connections and never says a word (a stuck mail relay)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    return server


async def test_request_does_not_wait_for_the_mail_server(tmp_path: Any) -> None:
    relay = _silent_smtp()
    port = relay.getsockname()[1]
    settings = make_settings(
        storage_local_dir=str(tmp_path), smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
    )
    app = create_app(settings)
    try:
        async with LifespanManager(app):
            await make_user(settings, email="w@example.org")
            transport = ASGITransport(app=app)
            async with AsyncClient(transport=transport, base_url="http://t") as client:
                started = time.perf_counter()
                response = await client.post(
                    "/api/v1/auth/forgot-password", json={"email": "w@example.org"}
                )
                elapsed = time.perf_counter() - started
            assert response.status_code == 202
            assert elapsed < 5  # the relay never answers: the job waits, not the request
            await asyncio.sleep(0.05)
            assert app.state.mail_queue.pending == 1
            relay.close()  # the relay goes away: the job fails, is logged, and the queue empties
            await asyncio.wait_for(email.drain(), timeout=20)
            assert app.state.mail_queue.pending == 0
    finally:
        relay.close()
