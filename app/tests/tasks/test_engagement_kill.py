"""The engagement tasks under a killed worker, on real Redis and MongoDB: a real
`python -m app.worker` is SIGKILLed in the middle of a percolation fan-out, an announcement
fan-out and a digest (stopped there by `app.tests.tasks.interrupt`, after some of the work
was written); another worker takes the message over, and every notification, match and
e-mail exists once, and the announcement counts each recipient once.

The killed worker must share the test's database, so these run only with MONGODB_URL (the
CI `mongodb` job); the same tasks under duplicate scheduling run on every backend in
`test_engagement_tasks.py`.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager
from beanie import PydanticObjectId
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis

from app.core.config import Settings
from app.main import create_app
from app.models.announcement import Announcement
from app.models.base import utcnow
from app.models.email import OutboxEmail
from app.models.notification import DigestRecord, DigestSchedule, Notification
from app.models.saved_search import SavedSearchMatch
from app.tasks import notifications
from app.tasks.runtime import TaskRuntime
from app.tests.engagement.helpers import give
from app.tests.factories import API, UserWithToken, make_opportunity, make_org, make_user
from app.tests.tasks.conftest import FAST_REDIS, engine_settings
from app.tests.tasks.test_redelivery import WorkerProcess, worker_processes  # noqa: F401

pytestmark = pytest.mark.mongodb

IMPORTS = ("app.tests.tasks.sample", "app.tests.tasks.interrupt")


@dataclass
class Setup:
    settings: Settings
    client: AsyncClient
    tmp_path: Path
    workers: list[WorkerProcess]

    async def kill_at(self, hang_at: str) -> None:
        """Start a worker that stops at `hang_at`, wait until it is there, SIGKILL it."""
        events = f"hang:{uuid.uuid4().hex}"
        victim = WorkerProcess(
            self.settings, self.tmp_path, IMPORTS, HANG_AT=hang_at, HANG_EVENTS=events
        )
        self.workers.append(victim)
        url = self.settings.redis_url.get_secret_value() if self.settings.redis_url else ""
        async with Redis.from_url(url) as redis:
            item = await redis.blpop([events], timeout=60)
        assert item is not None, f"the worker never reached {hang_at}:\n{victim.output()}"
        victim.process.send_signal(signal.SIGKILL)
        assert await victim.wait_exit(10) == -signal.SIGKILL

    async def take_over(self) -> None:
        """Another worker (in this process) reclaims the killed one's message and finishes."""
        rescuer = TaskRuntime(self.settings, role="worker", broker_options=FAST_REDIS)
        await rescuer.start()
        try:
            await asyncio.wait_for(rescuer.drain(), 60)
        finally:
            await rescuer.close()


@pytest.fixture
async def setup(
    redis_url: str,
    tmp_path: Path,
    worker_processes: list[WorkerProcess],  # noqa: F811
) -> AsyncIterator[Setup]:
    # The API in this process only enqueues (role api); the workers run the tasks.
    settings = engine_settings(
        "redis", tmp_path, redis_url, log_level="INFO", task_scheduler_enabled=False
    )
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
        transport = ASGITransport(app=app, client=("203.0.113.10", 51000))
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Setup(settings, client, tmp_path, worker_processes)


async def _readers(settings: Settings, n: int) -> list[UserWithToken]:
    return [await make_user(settings) for _ in range(n)]


async def test_a_percolation_killed_mid_fan_out_notifies_each_user_once(setup: Setup) -> None:
    partner = await make_user(setup.settings, role="partner")
    staff = await make_user(setup.settings, role="staff")
    readers = await _readers(setup.settings, 3)
    for reader in readers:
        search = await setup.client.post(
            f"{API}/me/saved-searches",
            headers=reader.headers,
            json={"name": "Solar", "kind": "opportunity", "query": {"q": "solar"}, "alert": "instant"},
        )  # fmt: skip
        assert search.status_code == 201, search.text
    org = await make_org(setup.client, partner)
    item = await make_opportunity(
        setup.client, partner, org["id"], publish_as=staff, title="Solar dryers"
    )  # publishing enqueued the percolation
    await setup.kill_at("percolate:2")  # two users notified, the third not yet
    await setup.take_over()
    for reader in readers:
        user_id = PydanticObjectId(reader.id)
        notes = await Notification.find({"user_id": user_id}).to_list()
        assert [(n.category, n.subject.id) for n in notes] == [("saved_search_match", item["id"])]
        assert await SavedSearchMatch.find({"user_id": user_id}).count() == 1
        mails = OutboxEmail.find({"to": reader.email, "template": "saved_search_alert"})
        assert await mails.count() == 1


async def test_an_announcement_killed_mid_fan_out_reaches_and_counts_each_user_once(
    setup: Setup,
) -> None:
    admin = await make_user(setup.settings, role="admin")
    readers = await _readers(setup.settings, 3)
    for reader in readers:
        response = await setup.client.put(
            f"{API}/me/notification-preferences",
            headers=reader.headers,
            json={"channels": {"announcement": {"in_app": "instant", "email": "off"}}},
        )
        assert response.status_code == 200, response.text
    created = await setup.client.post(
        f"{API}/admin/announcements",
        headers=admin.headers,
        json={"title": "Hello all", "body": "News", "segment": {"roles": ["entrepreneur"]}},
    )
    assert created.status_code == 201, created.text
    await setup.kill_at("announce:2")
    await setup.take_over()
    for reader in readers:
        found = Notification.find(
            {"user_id": PydanticObjectId(reader.id), "category": "announcement"}
        )
        assert await found.count() == 1
    done = await Announcement.get(PydanticObjectId(created.json()["id"]))
    assert done is not None
    assert (done.status, done.recipients) == ("done", 3)


async def test_a_digest_killed_after_its_mail_left_is_not_sent_again(setup: Setup) -> None:
    (reader,) = await _readers(setup.settings, 1)
    for n in range(3):
        await give(reader, "saved_search_match", title=f"Match {n}")
    user_id = PydanticObjectId(reader.id)
    await DigestSchedule.get_motor_collection().update_one(
        {"_id": user_id}, {"$set": {"due_at": utcnow() - timedelta(seconds=1)}}
    )
    await notifications.sweep_digests.kiq()
    await setup.kill_at("digest")  # the e-mail left; it is not marked sent
    record = await DigestRecord.find_one({"user_id": user_id})
    assert record is not None
    assert record.sent_at is None
    await setup.take_over()
    mails = await OutboxEmail.find({"to": reader.email, "template": "digest"}).to_list()
    assert len(mails) == 1
    assert all(f"Match {n}" in mails[0].body for n in range(3))
    pending = await Notification.find({"user_id": user_id, "email_state": "pending"}).count()
    assert pending == 0
    sent = await DigestRecord.find_one({"user_id": user_id})
    assert sent is not None
    assert sent.sent_at is not None
