"""Fixtures: a fresh app and database per test (in memory, or a fresh database on
MONGODB_URL's server: `app/tests/databases.py`), clients, users of each role."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.main import create_app
from app.tests import contract, databases, factories
from app.tests.net import free_port
from app.tests.redis_server import redis_url  # noqa: F401 - a session fixture


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "seed_demo_data": False,
        **databases.fresh(),  # embedded, or a new database on MONGODB_URL's server
        "redis_url": None,  # tasks in-process; job tests use the `redis_url` fixture
        "task_retry_base_seconds": 0.05,  # same back-off code, shorter delays
        # Cheaper argon2 than production (19 MiB) so the suite stays fast; same code path.
        "password_hash_memory_kib": 1024,
        "password_hash_rounds": 1,
        "storage_local_dir": "/nonexistent-set-by-fixture",
        "log_level": "WARNING",
        # Route walkers GET every route: the event stream ends instead of staying open.
        "notification_stream_max_seconds": 0.3,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """With MONGODB_URL: drop the databases this test's settings named (after its apps
    stopped: fixtures tear down in reverse order and this one is set up first)."""
    yield
    databases.drop_created()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change the app's settings."""
    return {}


@pytest.fixture
def settings(settings_overrides: dict[str, Any], tmp_path: Any) -> Settings:
    overrides = {"storage_local_dir": str(tmp_path / "media"), **settings_overrides}
    return make_settings(**overrides)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, client=("203.0.113.10", 51000))
    # Every response is checked against the spec the app serves (app/tests/contract.py).
    hooks = {"response": [contract.response_hook(app)]}
    async with AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks=hooks
    ) as c:
        yield c


@pytest.fixture
def make_user(app: FastAPI, settings: Settings) -> Callable[..., Any]:
    async def _make(**kwargs: Any) -> factories.UserWithToken:
        return await factories.make_user(settings, **kwargs)

    return _make


@pytest.fixture
async def admin(make_user: Callable[..., Any]) -> factories.UserWithToken:
    return await make_user(role="admin")


@pytest.fixture
async def staff(make_user: Callable[..., Any]) -> factories.UserWithToken:
    return await make_user(role="staff")


@pytest.fixture
async def partner(make_user: Callable[..., Any]) -> factories.UserWithToken:
    return await make_user(role="partner")


@pytest.fixture
async def entrepreneur(make_user: Callable[..., Any]) -> factories.UserWithToken:
    return await make_user(role="entrepreneur")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("MONGODB_URL"):
        return
    skip = pytest.mark.skip(reason="needs a real MongoDB: set MONGODB_URL to run")
    for item in items:
        if "mongodb" in item.keywords:
            item.add_marker(skip)


# --- Azurite: the real Azure Storage emulator, started once per session when a test needs it --

AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="  # Azurite's published development key (emulator only)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import shutil
    import socket
    import subprocess
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    binary = root / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists() or shutil.which("node") is None:
        pytest.fail("Azurite is not installed: run `npm ci` (make test does)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("azurite")
    process = subprocess.Popen(  # noqa: S603 - our own pinned npm binary
        [
            str(binary),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            str(workdir),
            "--silent",
            "--skipApiVersionCheck",
            "--loose",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None:
                pytest.fail("Azurite exited at start")
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("Azurite did not start within 30 s")
    connection_string = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )
    yield connection_string
    process.terminate()
    try:
        process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        process.kill()
