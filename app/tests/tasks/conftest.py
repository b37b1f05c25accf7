"""An engine per test — the in-process one and, when Redis runs, the Redis one — each inside
a running app, so the same behavioural tests run on both."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.main import create_app
from app.tasks.runtime import TaskRuntime
from app.tests.conftest import make_settings
from app.tests.tasks import sample

# Short Redis timings so crash and retry tests take seconds (production: settings defaults).
FAST_REDIS = {"block_ms": 100, "poll_seconds": 0.02}


@dataclass
class Engine:
    kind: str
    settings: Settings
    app: FastAPI
    worker: TaskRuntime | None

    @property
    def redis(self) -> bool:
        return self.kind == "redis"

    async def drain(self) -> None:
        runtime = self.worker or self.app.state.tasks
        await asyncio.wait_for(runtime.drain(), 20)

    def client(self) -> AsyncClient:
        transport = ASGITransport(app=self.app, client=("203.0.113.10", 51000))
        return AsyncClient(transport=transport, base_url="http://testserver")


def engine_settings(kind: str, tmp_path: Any, redis_url: str | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"storage_local_dir": str(tmp_path / "media"), **overrides}
    if kind == "redis":
        values.update(
            redis_url=redis_url,
            task_queue=f"test:{uuid.uuid4().hex[:12]}",  # one stream per test
            task_idle_timeout_seconds=1.0,
            task_shutdown_grace_seconds=2.0,
        )
    return make_settings(**values)


@pytest.fixture
def engine_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture(params=["memory", "redis"])
async def engine(
    request: pytest.FixtureRequest, tmp_path: Any, engine_overrides: dict[str, Any]
) -> AsyncIterator[Engine]:
    kind = request.param
    url = request.getfixturevalue("redis_url") if kind == "redis" else None
    settings = engine_settings(kind, tmp_path, url, **engine_overrides)
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
        worker = None
        if kind == "redis":  # the API only enqueues: a worker runs the tasks
            worker = TaskRuntime(settings, role="worker", broker_options=FAST_REDIS)
            await worker.start()
        try:
            yield Engine(kind, settings, app, worker)
        finally:
            if worker is not None:
                await worker.close()


async def produced(prefix: str) -> list[str]:
    docs = (
        await sample.collection(sample.PRODUCED)
        .find({"_id": {"$regex": f"^{prefix}"}})
        .to_list(None)
    )
    return sorted(d["_id"] for d in docs)


async def runs(task: str, key: str | None = None) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"task": task}
    if key is not None:
        query["key"] = key
    return list(await sample.collection(sample.RUNS).find(query).to_list(None))
