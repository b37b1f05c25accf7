"""An unexpected exception costs one bounded, credential-free log record, and the server
keeps answering meanwhile — with either renderer, in-process and under a real uvicorn.

Found by attacking the running app: a malformed relevance cursor raised deep inside the
list code, and the development renderer (structlog's ConsoleRenderer → rich, locals shown
by default) spent 27 s on the event loop writing a 7.6 MB record of every frame's locals —
the ASGI scope with its Authorization header included. The JSON renderer's
`dict_tracebacks` shows locals by default too.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from bson import ObjectId
from fastapi import FastAPI
from starlette.types import Message

from app.core.logging import MAX_FRAMES, redact_text
from app.core.security import TokenType, create_token
from app.tests.conftest import make_settings
from app.tests.factories import UserWithToken
from app.tests.failing_app import LOCAL_MARKER, PREFIX, add_failing_routes
from app.tests.net import free_port

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
MAX_RECORD_BYTES = 32 * 1024
RENDERERS = [{"log_format": "console"}, {"log_format": "json"}]
_RECORD_START = re.compile(r"^\d{4}-\d\d-\d\dT", re.MULTILINE)


def credentials(token: str) -> dict[str, str]:
    return {
        "token": token,
        "token_claims": token.split(".")[1],
        "token_signature": token.split(".")[2],
        "password": "Pa55word-in-the-body-C0FFEE",
        "cookie": "cookie-secret-9d8e7f6a5b4c",
        "reset": "Xq3-fT9_bL2mN8vR4kP7wZ1yC6hJ0dS5gA2eU9iO4tY",  # shaped like random_secret()
    }


def hostile_request(token: str, creds: dict[str, str]) -> dict[str, Any]:
    return {
        "headers": {
            "Authorization": f"Bearer {token}",
            "Cookie": f"session={creds['cookie']}",
            "X-Request-ID": "boom-1",
        },
        "json": {"email": "a@example.org", "password": creds["password"], "reset": creds["reset"]},
    }


def assert_clean(output: str, creds: dict[str, str]) -> None:
    for name, value in creds.items():
        assert value not in output, f"{name} leaked into the logs"
    assert LOCAL_MARKER not in output, "a frame's locals reached the logs"


def console_records(output: str) -> list[str]:
    starts = [m.start() for m in _RECORD_START.finditer(output)]
    return [output[a:b] for a, b in zip(starts, [*starts[1:], len(output)], strict=True)]


# --- in-process, both renderers -----------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", RENDERERS, ids=["console", "json"])
async def test_500_is_one_bounded_record_without_locals_or_credentials(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: UserWithToken,
    settings_overrides: dict[str, str],
    capfd: pytest.CaptureFixture[str],
) -> None:
    add_failing_routes(app)
    creds = credentials(admin.access_token)
    capfd.readouterr()
    response = await client.post(f"{PREFIX}/boom", **hostile_request(admin.access_token, creds))
    assert response.status_code == 500
    assert response.json()["error"] == {
        "code": "INTERNAL_ERROR",
        "message": "An unexpected error occurred.",
        "details": [],
    }
    output = capfd.readouterr().err
    assert_clean(output, creds)
    if settings_overrides["log_format"] == "json":
        records = [json.loads(line) for line in output.splitlines()]  # every line is JSON
        failures = [r for r in records if "exception" in r]
        assert len(failures) == 1
        failure = failures[0]
        assert failure["event"] == "unhandled_error"
        assert failure["request_id"] == "boom-1"
        stacks = failure["exception"]
        assert [s["exc_type"] for s in stacks] == ["RuntimeError", "KeyError"]
        for stack in stacks:
            assert len(stack["frames"]) <= MAX_FRAMES + 1  # + structlog's "frames hidden" marker
            assert all("locals" not in frame for frame in stack["frames"])
        raw = [line for line in output.splitlines() if '"exception"' in line]
        careless = next(r for r in records if r["event"] == "careless_log")
        assert careless["headers"]["authorization"] == "[redacted]"
        assert careless["headers"]["cookie"] == "[redacted]"
        assert careless["body"]["password"] == "[redacted]"
        library = next(r for r in records if r.get("logger") == "some.library")
        assert library["event"].startswith("retrying with header Bearer [redacted")
    else:
        records = console_records(output)
        raw = [r for r in records if "unhandled_error" in r]
        assert len(raw) == 1
        assert output.count("Traceback (most recent call last)") == raw[0].count(
            "Traceback (most recent call last)"
        )  # the traceback is written once, inside that record
        frames = raw[0].count('  File "')
        assert 2 <= frames <= 2 * MAX_FRAMES  # two chained exceptions, innermost frames kept
        assert "request_id=boom-1" in raw[0]
        assert "[redacted]" in next(r for r in records if "careless_log" in r)
        assert "Bearer [redacted" in next(r for r in records if "some.library" in r)
    assert len(raw[0].encode()) < MAX_RECORD_BYTES


@pytest.mark.parametrize("settings_overrides", RENDERERS, ids=["console", "json"])
async def test_health_live_answers_while_a_request_fails(
    app: FastAPI, client: httpx.AsyncClient, capfd: pytest.CaptureFixture[str]
) -> None:
    add_failing_routes(app)
    loop = asyncio.get_running_loop()
    failing = asyncio.create_task(
        client.get(f"{PREFIX}/slow-boom", headers={"X-Password": "hunter2-in-a-local"})
    )
    probes: list[tuple[float, int]] = []
    while not failing.done():
        started = loop.time()
        probe = await client.get("/api/v1/health/live")
        probes.append((loop.time() - started, probe.status_code))
        await asyncio.sleep(0.01)
    response = await failing
    assert response.status_code == 500
    assert len(probes) >= 5  # answered throughout the failing request
    assert all(status == 200 for _, status in probes)
    # Generous: logging the failure once is milliseconds; the old renderer took seconds.
    assert max(wait for wait, _ in probes) < 2.0
    output = capfd.readouterr().err
    assert "hunter2-in-a-local" not in output
    assert LOCAL_MARKER not in output


@pytest.mark.parametrize("settings_overrides", RENDERERS, ids=["console", "json"])
async def test_failure_after_the_response_started_is_logged_once(
    app: FastAPI, capfd: pytest.CaptureFixture[str]
) -> None:
    """The middleware logs it and ends the exchange without completing the response (the
    server then closes the connection, so the client sees a cut stream, not a whole one);
    it does not re-raise, so the server does not log the traceback a second time."""
    add_failing_routes(app)
    capfd.readouterr()
    sent: list[Message] = []
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if requested:  # a client that stays connected: wait (cancellably) forever
            await asyncio.Event().wait()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    path = f"{PREFIX}/stream-boom"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("203.0.113.10", 51000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)  # returns: the exception does not escape
    assert sent[0]["status"] == 200
    assert [m.get("body") for m in sent[1:]] == [b"first chunk\n"]
    assert all(m.get("more_body", False) for m in sent[1:])  # never marked complete
    output = capfd.readouterr().err
    assert output.count("unhandled_error") == 1
    assert "failed after the response started" in output


def test_redaction_of_free_text() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
    reset = "Qm9vLWJvby1ib28tYmFuYW5hcy0xMjM0NTY3ODkw"
    samples = {
        f"Authorization: Bearer {token}": token,
        f"token {token[:30]}": token[:30],  # a cut-off JWT is still recognised
        "{'password': 'hunter two words'}": "hunter two words",
        'password="p@ss w0rd"': "p@ss w0rd",
        "GET /reset?token=abc123secret&x=1": "abc123secret",
        "Cookie: session=s3cr3t-cookie": "s3cr3t-cookie",
        "x-api-key=AKIA1234": "AKIA1234",
        f"your link: https://app.example/verify/{reset}": reset,
        "Basic dXNlcjpwYXNz": "dXNlcjpwYXNz",
    }
    for text, secret in samples.items():
        assert secret not in redact_text(text), text
    kept = "request_id=0af1c2d3e4f5a6b7c8d9e0f1a2b3c4d5 user 6b02d6f3a21f2eac3f510715 ok"
    assert redact_text(kept) == kept  # ids and hex request ids stay readable


# --- under a real uvicorn ------------------------------------------------------------------------


@pytest.mark.parametrize("log_format", ["console", "json"])
async def test_real_server_logs_each_failure_once_and_keeps_serving(
    log_format: str, tmp_path: Path
) -> None:
    """uvicorn's own loggers go through our processors; a failure is logged by our
    middleware only (not again as "Exception in ASGI application"), redacted and bounded,
    while /health/live keeps answering."""
    port = free_port()
    log_path = tmp_path / "server.log"
    env = {
        **os.environ,
        "LOG_FORMAT": log_format,
        "STORAGE_LOCAL_DIR": str(tmp_path / "media"),
    }
    env.pop("MONGODB_URL", None)
    with log_path.open("w") as log_file:
        process = await asyncio.create_subprocess_exec(
            str(BIN / "uvicorn"),
            "app.tests.failing_app:create",
            "--factory",
            "--port",
            str(port),
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                await _wait_ready(http, process)
                token = access_token()
                creds = credentials(token)
                probes: list[int] = []

                async def probe_until(task: asyncio.Future[Any]) -> None:
                    while not task.done():
                        probes.append((await http.get("/api/v1/health/live")).status_code)
                        await asyncio.sleep(0.01)

                failures = asyncio.gather(
                    http.post(f"{PREFIX}/boom", **hostile_request(token, creds)),
                    http.get(f"{PREFIX}/slow-boom"),
                )
                task = asyncio.ensure_future(failures)
                await probe_until(task)
                boom, slow = await task
                assert (boom.status_code, slow.status_code) == (500, 500)
                with pytest.raises(httpx.HTTPError):  # the stream is cut, not completed
                    await http.get(f"{PREFIX}/stream-boom")
                assert probes
                assert all(status == 200 for status in probes)
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=15)
    output = log_path.read_text()
    assert_clean(output, creds)
    assert "Exception in ASGI application" not in output
    expected = {"could not use": 2, "failed after the response started": 1}  # one per failure
    for message, count in expected.items():
        assert len([r for r in _records(output, log_format) if message in r]) == count
    for record in _records(output, log_format):
        assert len(record.encode()) < MAX_RECORD_BYTES


def access_token() -> str:
    """A real access token (signed with the test key); the server need not know its user."""
    token, _ = create_token(
        make_settings(),
        subject=str(ObjectId()),
        role="admin",
        token_type=TokenType.access,
        session_id="s",
    )
    return token


def _records(output: str, log_format: str) -> list[str]:
    if log_format == "json":
        lines = output.splitlines()
        for line in lines:
            json.loads(line)  # uvicorn's own lines are JSON too
        return lines
    return console_records(output)


async def _wait_ready(http: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.returncode is not None:
            pytest.fail("the server exited at start")
        try:
            if (await http.get("/api/v1/health/live")).status_code == 200:
                return
        except httpx.TransportError:
            await asyncio.sleep(0.2)
    pytest.fail("the server did not start")
