"""Fixtures: a fresh app (and in-memory database) per test, clients, users of each role."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.main import create_app
from app.tests import factories


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "seed_demo_data": False,
        "mongodb_url": None,
        # Cheaper argon2 than production (19 MiB) so the suite stays fast; same code path.
        "password_hash_memory_kib": 1024,
        "password_hash_rounds": 1,
        "storage_local_dir": "/nonexistent-set-by-fixture",
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


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
    async with AsyncClient(transport=transport, base_url="http://testserver") as c:
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
