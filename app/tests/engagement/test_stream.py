"""`GET /notifications/stream` (Server-Sent Events): bearer auth, each new notification as
an event whose id is the notification's, heartbeats, `Last-Event-ID` resume — in-process on
the embedded default, and across processes through Redis pub/sub with REDIS_URL.

httpx's ASGI transport waits for a response to end, so these tests drive the ASGI app
directly and read the body as it streams."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from beanie import PydanticObjectId

from app.main import create_app
from app.models.notification import Notification, Reason, Subject
from app.services.notifications import stream
from app.services.notifications.notify import stream_message
from app.tests.conftest import make_settings
from app.tests.engagement.helpers import give
from app.tests.factories import make_user

PATH = "/api/v1/notifications/stream"
FAST = {"notification_stream_max_seconds": 20, "notification_stream_heartbeat_seconds": 0.2}


class Stream:
    def __init__(self, app: Any, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.gone = asyncio.Event()
        self.buffer = ""
        self.status: int | None = None
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Stream:
        started = False

        async def receive() -> dict[str, Any]:
            nonlocal started
            if not started:
                started = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self.gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            await self.messages.put(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": PATH,
            "raw_path": PATH.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in self.headers.items()],
            "client": ("203.0.113.10", 51000),
            "server": ("testserver", 80),
        }
        self.task = asyncio.create_task(self.app(scope, receive, send))
        start = await asyncio.wait_for(self.messages.get(), 5)
        self.status = start["status"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.gone.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 5)

    async def body(self) -> str:
        chunks = []
        while True:
            message = await asyncio.wait_for(self.messages.get(), 5)
            chunks.append(message.get("body", b"").decode())
            if not message.get("more_body"):
                return "".join(chunks)

    async def frame(self, within: float = 5.0) -> str:
        """The next complete SSE frame (an event or a comment)."""

        async def next_frame() -> str:
            while "\n\n" not in self.buffer:
                message = await self.messages.get()
                self.buffer += message.get("body", b"").decode()
            frame, self.buffer = self.buffer.split("\n\n", 1)
            return frame

        return await asyncio.wait_for(next_frame(), within)

    async def event(self, within: float = 5.0) -> dict[str, Any]:
        """The next notification event, skipping comments."""
        while True:
            frame = await self.frame(within)
            fields = dict(
                line.split(": ", 1)
                for line in frame.splitlines()
                if not line.startswith(":") and ": " in line
            )
            if fields.get("event") == "notification":
                return {"id": fields["id"], "data": json.loads(fields["data"])}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return FAST


async def test_events_heartbeats_and_resume(app, entrepreneur, partner):
    async with Stream(app, entrepreneur.headers) as s:
        assert s.status == 200
        assert (await s.frame()).startswith("retry: 3000")
        first = await give(entrepreneur, "moderation", title="Approved")
        await give(partner, "moderation", title="Not yours")
        event = await s.event()
        assert event["id"] == str(first.id)
        assert event["data"]["title"] == "Approved"
        assert event["data"]["reason"]["preference"] == "moderation"
        assert await s.frame(within=2) == ": heartbeat"
    # while disconnected, two more arrive; reconnecting with Last-Event-ID replays them
    second = await give(entrepreneur, "rsvp", title="Going")
    third = await give(entrepreneur, "rsvp", title="Promoted")
    async with Stream(app, {**entrepreneur.headers, "Last-Event-ID": str(first.id)}) as s:
        await s.frame()
        replayed = [(await s.event())["id"], (await s.event())["id"]]
        assert replayed == [str(second.id), str(third.id)]


async def test_the_stream_needs_a_bearer_token(app):
    async with Stream(app, {}) as s:
        assert s.status == 401
        assert json.loads(await s.body())["error"]["code"] == "NOT_AUTHENTICATED"


async def _ended(s: Stream, within: float) -> bool:
    """Read frames until the response body ends (True) or `within` seconds pass."""
    try:
        async with asyncio.timeout(within):
            while True:
                message = await s.messages.get()
                if not message.get("more_body", False):
                    return True
    except TimeoutError:
        return False


async def test_logout_ends_an_open_stream(app, client, entrepreneur):
    async with Stream(app, entrepreneur.headers) as s:
        await s.frame()
        assert not await _ended(s, 0.5)  # heartbeats: the stream stays open
        response = await client.post("/api/v1/auth/logout", headers=entrepreneur.headers)
        assert response.status_code == 204
        assert await _ended(s, 3)  # within a heartbeat or two
    async with Stream(app, entrepreneur.headers) as s:  # and the token cannot reopen it
        assert s.status == 401


async def test_the_stream_lasts_no_longer_than_its_token(app, entrepreneur):
    """The stream's deadline is the access token's expiry when that comes first."""
    from datetime import timedelta

    from app.models.base import utcnow
    from app.services.auth import Principal
    from app.services.notifications import events_stream

    class Connected:
        async def is_disconnected(self) -> bool:
            return False

    principal = Principal(
        id=PydanticObjectId(entrepreneur.id),
        role=entrepreneur.user.role,
        jti="j-expiring",
        sid="s-expiring",
        exp=utcnow() + timedelta(seconds=1),
    )
    frames = events_stream.events(
        Connected(),  # type: ignore[arg-type]
        principal,
        None,
        app.state.settings,
    )

    async def drain() -> int:
        return len([frame async for frame in frames])

    count = await asyncio.wait_for(drain(), 5)  # FAST allows 20 s; the token, 1 s
    assert count >= 2  # the opening frame and at least one heartbeat


async def test_a_quiet_in_app_channel_does_not_push(app, client, entrepreneur):
    await client.put(
        "/api/v1/me/notification-preferences",
        headers=entrepreneur.headers,
        json={"channels": {"rsvp": {"in_app": "daily", "email": "off"}}},
    )
    async with Stream(app, entrepreneur.headers) as s:
        await s.frame()
        await give(entrepreneur, "rsvp", title="Quietly")
        loud = await give(entrepreneur, "moderation", title="Loudly")
        assert (await s.event())["id"] == str(loud.id)


@pytest.fixture
async def redis_app(redis_url: str, tmp_path: Any) -> AsyncIterator[Any]:
    settings = make_settings(
        redis_url=redis_url,
        task_queue=f"test:{uuid.uuid4().hex[:12]}",
        storage_local_dir=str(tmp_path / "media"),
        **FAST,
    )
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60):
        hub = application.state.notification_hub
        assert isinstance(hub, stream.RedisHub)
        await asyncio.wait_for(hub.ready.wait(), 10)
        yield application


async def test_across_processes_through_redis_pub_sub(redis_app):
    settings = redis_app.state.settings
    user = await make_user(settings)
    stranger = await make_user(settings)
    # a worker elsewhere: its own hub, publishing only
    worker_hub = stream.RedisHub(
        settings.redis_url.get_secret_value(), settings.task_queue, listen=False
    )
    try:
        async with Stream(redis_app, user.headers) as s:
            await s.frame()
            stored = Notification(
                user_id=PydanticObjectId(user.id),
                category="moderation",
                event="approved",
                title="From a worker",
                subject=Subject(kind="account", title="x"),
                reason=Reason(type="account", label="x", preference="moderation"),
                dedupe_key="worker-1",
            )
            await stored.insert()  # as a worker would, then it publishes on Redis
            await worker_hub.publish(str(stranger.id), stream_message(stored))  # not for us
            await worker_hub.publish(user.id, stream_message(stored))
            event = await s.event()
            assert (event["id"], event["data"]["title"]) == (str(stored.id), "From a worker")
            # this process's notify publishes through Redis as well
            mine = await give(user, "rsvp", title="Second")
            assert (await s.event())["id"] == str(mine.id)
    finally:
        await worker_hub.close()
