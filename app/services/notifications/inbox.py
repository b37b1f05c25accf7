"""The caller's inbox: list (newest first, by state and category), unread count, mark read,
mark all read, archive. Another user's notification is a 404, like one that does not exist.
Each change is one conditional update on the caller's own notification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId, SortDirection
from pymongo import ReturnDocument

from app.core.exceptions import NotFound
from app.core.pagination import PageParams, SortSpec, paginate
from app.models.base import utcnow
from app.models.notification import Category, InboxState, Notification
from app.services.access import object_id

SORT = SortSpec("-created", "created_at", -1)
ASC = SortDirection.ASCENDING
RESUME_LIMIT = 100


def _not_found() -> NotFound:
    return NotFound("The notification was not found.", code="NOTIFICATION_NOT_FOUND")


async def list_mine(
    user_id: PydanticObjectId,
    state: InboxState | None,
    category: Category | None,
    page: PageParams,
) -> tuple[list[Notification], str | None, int | None]:
    filters: dict[str, Any] = {"user_id": user_id, "in_app": True}
    filters["state"] = state if state else {"$ne": "archived"}
    if category:
        filters["category"] = category
    return await paginate(Notification, filters, SORT, page)


async def unread_count(user_id: PydanticObjectId) -> int:
    return int(
        await Notification.get_motor_collection().count_documents(
            {"user_id": user_id, "in_app": True, "state": "unread"}
        )
    )


async def _change(
    user_id: PydanticObjectId,
    notification_id: str,
    condition: dict[str, Any],
    change: dict[str, Any],
) -> Notification:
    oid = object_id(notification_id, "NOTIFICATION_NOT_FOUND", "notification")
    mine = {"_id": oid, "user_id": user_id, "in_app": True}
    collection = Notification.get_motor_collection()
    raw = await collection.find_one_and_update(
        {**mine, **condition}, {"$set": change}, return_document=ReturnDocument.AFTER
    )
    if raw is None:
        raw = await collection.find_one(mine)  # already in that state: idempotent
        if raw is None:
            raise _not_found()
    return Notification.model_validate(raw)


async def mark_read(user_id: PydanticObjectId, notification_id: str) -> Notification:
    now = utcnow()
    return await _change(
        user_id, notification_id, {"state": "unread"}, {"state": "read", "read_at": now}
    )


async def archive(user_id: PydanticObjectId, notification_id: str) -> Notification:
    now = utcnow()
    return await _change(
        user_id,
        notification_id,
        {"state": {"$ne": "archived"}},
        {"state": "archived", "archived_at": now},
    )


async def mark_all_read(user_id: PydanticObjectId) -> int:
    now = utcnow()
    result = await Notification.get_motor_collection().update_many(
        {"user_id": user_id, "in_app": True, "state": "unread"},
        {"$set": {"state": "read", "read_at": now}},
    )
    return int(result.modified_count)


async def since(user_id: PydanticObjectId, last_event_id: str) -> list[Notification]:
    """What a reconnecting stream missed after `last_event_id` (a notification id). Ids from
    several processes created in the same second are not strictly ordered, so the window
    starts one second before that notification: a client may see one again (same id)."""
    if not PydanticObjectId.is_valid(last_event_id):
        return []
    last = PydanticObjectId(last_event_id)
    start: datetime = last.generation_time
    found = (
        await Notification.find(
            {
                "user_id": user_id,
                "in_app": True,
                "created_at": {"$gte": start.replace(microsecond=0)},
                "_id": {"$ne": last},
            }
        )
        .sort([("created_at", ASC), ("_id", ASC)])
        .limit(RESUME_LIMIT)
        .to_list()
    )
    return found
