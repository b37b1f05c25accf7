"""The caller's notifications: the inbox, and the real-time stream."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from app.api.deps import CurrentUser, SettingsDep, SignedInViewer
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.notification import (
    NotificationPage,
    NotificationQuery,
    NotificationRead,
    ReadAllResult,
    UnreadCount,
)
from app.services.notifications import events_stream, inbox

router = APIRouter(
    prefix="/notifications",
    tags=["notifications"],
    responses=error_responses(401),
    route_class=StrictRoute,
)


@router.get("", operation_id="notifications_list")
async def list_notifications(
    who: SignedInViewer, query: Annotated[NotificationQuery, Query()]
) -> NotificationPage:
    """Your notifications, newest first; archived ones only with `state=archived`. Each says
    what happened, to what (`subject`) and why you got it (`reason`). One about an item you
    can no longer see keeps only its kind, id and status changes."""
    items, cursor, total, hidden = await inbox.page_for(
        who, query.state, query.category, query.page
    )
    return NotificationPage(
        items=[NotificationRead.from_doc(n, hidden) for n in items], next_cursor=cursor, total=total
    )


@router.get("/unread-count", operation_id="notifications_unread_count")
async def unread_count(principal: CurrentUser) -> UnreadCount:
    """How many notifications in your inbox are unread."""
    return UnreadCount(unread=await inbox.unread_count(principal.id))


@router.get(
    "/stream",
    operation_id="notifications_stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def stream(
    request: Request,
    principal: CurrentUser,
    settings: SettingsDep,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> StreamingResponse:
    """Server-Sent Events: each new notification as an `event: notification` whose `id` is
    the notification's id, a `: heartbeat` comment every NOTIFICATION_STREAM_HEARTBEAT_SECONDS.
    Reconnect with `Last-Event-ID` to receive what you missed (a repeat is possible: the
    same id). The stream ends when the access token expires or its session is revoked
    (checked at each heartbeat); reconnect with a fresh token."""
    return StreamingResponse(
        events_stream.events(request, principal, last_event_id, settings),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/read-all", operation_id="notifications_read_all", responses=error_responses(422))
async def read_all(principal: CurrentUser) -> ReadAllResult:
    """Mark every unread notification read."""
    return ReadAllResult(marked_read=await inbox.mark_all_read(principal.id))


@router.post(
    "/{notification_id}/read",
    operation_id="notifications_read",
    responses=error_responses(404, 422),
)
async def mark_read(who: SignedInViewer, notification_id: str) -> NotificationRead:
    """Mark one notification read (again: no change)."""
    return NotificationRead.from_doc(*await inbox.mark_read(who, notification_id))


@router.post(
    "/{notification_id}/archive",
    operation_id="notifications_archive",
    responses=error_responses(404, 422),
)
async def archive(who: SignedInViewer, notification_id: str) -> NotificationRead:
    """Move one notification out of the inbox (listed with `state=archived`)."""
    return NotificationRead.from_doc(*await inbox.archive(who, notification_id))
