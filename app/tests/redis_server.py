"""A real Redis for the job tests, started once per test session (like Azurite).

`TEST_REDIS_URL` points the tests at a server someone else runs (the GitHub Actions service).
Otherwise `redis-server` from PATH is started on a free port without persistence. Without
either the job tests are skipped — unless RUNWEI_REQUIRE_REDIS is set (`.ci/run` sets it),
where a missing server fails the run instead of hiding the tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from app.tests.net import free_port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("TEST_REDIS_URL")
    if external:
        yield external
        return
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "needs redis-server on PATH (apt-get install redis-server) or TEST_REDIS_URL"
        if os.environ.get("RUNWEI_REQUIRE_REDIS"):
            pytest.fail(f"RUNWEI_REQUIRE_REDIS is set but Redis is missing: {reason}")
        pytest.skip(reason)
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(  # noqa: S603 - the system's redis-server, fixed arguments
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not _answers_ping(port):
        if process.poll() is not None:
            pytest.fail("redis-server exited at start")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("redis-server did not answer within 20 s")
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
