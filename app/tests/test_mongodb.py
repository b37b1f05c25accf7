"""Tests that need a real MongoDB (`-m mongodb`); they skip when MONGODB_URL is unset.

CI runs them against a `mongo` service container (see .github/workflows/test.yml).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.main import create_app
from app.tests.conftest import make_settings

pytestmark = pytest.mark.mongodb


@pytest.fixture
async def real_app(tmp_path) -> AsyncIterator:
    base = os.environ["MONGODB_URL"].rsplit("/", 1)[0]
    name = f"runwei_test_{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        mongodb_url=f"{base}/{name}",
        rate_limit_enabled=False,
        storage_local_dir=str(tmp_path / "media"),
    )
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60):
        yield app
        await app.state.database.client.drop_database(name)


@pytest.fixture
async def real_client(real_app) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=real_app), base_url="http://t") as c:
        yield c


async def test_declared_indexes_exist(real_app) -> None:
    db = real_app.state.database.db
    users = await db["users"].index_information()
    assert users["email_unique"]["unique"] is True
    for collection in ("revoked_tokens", "auth_sessions", "one_time_tokens"):
        info = await db[collection].index_information()
        assert info["ttl_expires"]["expireAfterSeconds"] == 0, collection


async def test_unique_email_under_concurrency(real_client: AsyncClient) -> None:
    body = {"email": "race@example.org", "password": "a-long-enough-secret-42", "full_name": "R"}
    responses = await asyncio.gather(
        *(real_client.post("/api/v1/auth/register", json=body) for _ in range(50))
    )
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 1
    assert codes.count(409) == 49


async def test_login_refresh_logout_on_real_mongodb(real_client: AsyncClient) -> None:
    body = {"email": "flow@example.org", "password": "a-long-enough-secret-42", "full_name": "F"}
    assert (await real_client.post("/api/v1/auth/register", json=body)).status_code == 201
    login = await real_client.post(
        "/api/v1/auth/login/json", json={"email": body["email"], "password": body["password"]}
    )
    pair = login.json()
    rotated = await real_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert rotated.status_code == 200
    replay = await real_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert replay.status_code == 401
    me = await real_client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {rotated.json()['access_token']}"}
    )
    assert me.status_code == 401
