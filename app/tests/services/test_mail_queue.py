"""The e-mail seam on the task engine: jobs run off the request path as tasks, failures are
logged (type, not message) and retried, the lifespan lets running jobs finish or cancels
them at shutdown. (Was the in-process MailQueue before the engine; same properties.)"""

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
from app.main import create_app
from app.models.email import OutboxEmail
from app.tests.conftest import make_settings
from app.tests.factories import make_user

# Jobs are module-level functions (they travel to the worker by name).
DONE: list[str] = []


async def broken() -> None:
    raise RuntimeError("smtp-password-hunter2")


async def fine() -> None:
    DONE.append("fine")


async def inner() -> None:
    await asyncio.sleep(0.01)
    DONE.append("inner")


async def outer() -> None:
    await email.enqueue("inner", inner)


async def record(value: str) -> None:
    DONE.append(value)


async def quick() -> None:
    await asyncio.sleep(0.01)
    DONE.append("quick")


async def stuck() -> None:
    await asyncio.sleep(3600)
    DONE.append("stuck")


async def late_mail(to: str) -> None:
    await asyncio.sleep(0.2)
    await email.send(
        make_settings(), to, "Late", "verify_email", full_name="L", link="https://e.org", hours=1
    )


@pytest.fixture(autouse=True)
def _clear() -> None:
    DONE.clear()


async def test_failed_job_is_logged_without_its_message_and_others_still_run(
    app: FastAPI, capfd: pytest.CaptureFixture[str]
) -> None:
    await email.enqueue("broken", broken)
    await email.enqueue("fine", fine)
    await email.drain()
    assert DONE == ["fine"]
    err = capfd.readouterr().err
    assert "task_done" in err
    assert "RuntimeError" in err
    assert "hunter2" not in err


async def test_drain_waits_for_jobs_that_jobs_enqueue(app: FastAPI) -> None:
    await email.enqueue("outer", outer)
    await email.drain()
    assert DONE == ["inner"]


async def test_without_a_running_app_jobs_run_at_once() -> None:
    await email.enqueue("job", record, "now")
    assert DONE == ["now"]


async def test_a_job_must_be_importable_by_the_worker(app: FastAPI) -> None:
    async def closure() -> None:
        pass

    with pytest.raises(TypeError, match="module-level"):
        await email.enqueue("closure", closure)


async def test_shutdown_awaits_quick_jobs_and_cancels_slow_ones(
    tmp_path: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(storage_local_dir=str(tmp_path), task_shutdown_grace_seconds=0.2)
    app = create_app(settings)
    async with LifespanManager(app):
        await email.enqueue("quick", quick)
        await email.enqueue("stuck", stuck)
        await asyncio.sleep(0)
        started = time.perf_counter()
    assert time.perf_counter() - started < 2
    assert DONE == ["quick"]
    assert app.state.tasks.pending == 0
    assert "tasks_cancelled_at_shutdown" in capfd.readouterr().err


async def test_lifespan_shutdown_finishes_queued_mail(tmp_path: Any) -> None:
    """A job still running when the app stops is awaited (within the grace period) before
    the database closes."""
    settings = make_settings(storage_local_dir=str(tmp_path))
    app = create_app(settings)
    async with LifespanManager(app):
        await email.enqueue("slow", late_mail, "late@example.org")
        assert app.state.tasks.pending == 1
        collection = OutboxEmail.get_motor_collection()
    assert app.state.tasks.pending == 0
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
            assert app.state.tasks.pending == 1
            relay.close()  # the relay goes away: the job fails, is retried, gives up, logged
            await asyncio.wait_for(email.drain(), timeout=20)
            assert app.state.tasks.pending == 0
    finally:
        relay.close()
