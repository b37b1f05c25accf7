"""The body of `GET /notifications/stream`: Server-Sent Events for one user.

First what the client missed (with `Last-Event-ID`), then each notification the hub
delivers, and a heartbeat comment when nothing happened for a while (proxies such as Azure
Front Door close idle connections; the client then reconnects with `Last-Event-ID`).

The stream lives no longer than the access token that opened it, and each heartbeat checks
the denylist: a logout, password change or deactivation ends an open stream within one
heartbeat, and the client must reconnect with a valid token.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request

from app.core.config import Settings
from app.models.base import utcnow
from app.services import sessions
from app.services.auth import Principal
from app.services.notifications import inbox, stream
from app.services.notifications.notify import stream_message


def frame(message: dict[str, Any]) -> bytes:
    data = json.dumps(message["data"], separators=(",", ":"))
    return f"id: {message['id']}\nevent: notification\ndata: {data}\n\n".encode()


async def events(
    request: Request, principal: Principal, last_event_id: str | None, settings: Settings
) -> AsyncIterator[bytes]:
    user_id = principal.id
    hub = stream.current()
    heartbeat = settings.notification_stream_heartbeat_seconds
    if hub is None:  # pragma: no cover - the API lifespan starts one
        return
    async with hub.subscribe(str(user_id)) as queue:
        yield f"retry: {int(settings.notification_stream_retry_ms)}\n: connected\n\n".encode()
        sent: set[str] = set()
        if last_event_id:
            for doc in await inbox.since(user_id, last_event_id):
                message = stream_message(doc)
                sent.add(message["id"])
                yield frame(message)
        loop = asyncio.get_running_loop()
        token_left = (principal.exp - utcnow()).total_seconds()
        deadline = loop.time() + min(settings.notification_stream_max_seconds, token_left)
        while (left := deadline - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(queue.get(), timeout=min(heartbeat, left))
            except TimeoutError:
                if await request.is_disconnected():
                    return
                if await sessions.is_revoked(principal.jti, principal.sid):
                    return  # logged out, password changed, deactivated: reconnect to go on
                if deadline - loop.time() > 0:
                    yield b": heartbeat\n\n"
                continue
            if message["id"] in sent:  # already replayed from the database
                continue
            yield frame(message)
