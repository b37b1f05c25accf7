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
from app.models.event import Event
from app.models.notification import Category, InboxState, Notification
from app.models.opportunity import Opportunity
from app.services.access import object_id
from app.services.catalogue import Viewer, visible_to

SORT = SortSpec("-created", "created_at", -1)
ASC = SortDirection.ASCENDING
RESUME_LIMIT = 100
KINDS: dict[str, type[Opportunity] | type[Event]] = {"opportunity": Opportunity, "event": Event}


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


async def mark_read(who: Viewer, notification_id: str) -> tuple[Notification, set[str]]:
    doc = await _change(
        who.user.id, notification_id, {"state": "unread"}, {"state": "read", "read_at": utcnow()}
    )
    return doc, await hidden_subjects(who, [doc])


async def archive(who: Viewer, notification_id: str) -> tuple[Notification, set[str]]:
    doc = await _change(
        who.user.id,
        notification_id,
        {"state": {"$ne": "archived"}},
        {"state": "archived", "archived_at": utcnow()},
    )
    return doc, await hidden_subjects(who, [doc])


async def page_for(
    who: Viewer, state: InboxState | None, category: Category | None, page: PageParams
) -> tuple[list[Notification], str | None, int | None, set[str]]:
    """A page of the caller's inbox, and which of its items they may no longer see."""
    items, cursor, total = await list_mine(who.user.id, state, category, page)
    return items, cursor, total, await hidden_subjects(who, items)


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


async def hidden_subjects(who: Viewer, docs: list[Notification]) -> set[str]:
    """Ids of the items, among these notifications' subjects, the caller may no longer see
    (closed, cancelled, archived…): such notifications are shown like the `/me` tombstones —
    kind, id and status changes only, no content. One query per kind for a page."""
    wanted: dict[str, set[PydanticObjectId]] = {}
    for doc in docs:
        if doc.subject.kind in KINDS and doc.subject.id:
            wanted.setdefault(doc.subject.kind, set()).add(PydanticObjectId(doc.subject.id))
    hidden: set[str] = set()
    for kind, ids in wanted.items():
        found = {i.id: i for i in await KINDS[kind].find({"_id": {"$in": list(ids)}}).to_list()}
        hidden |= {str(i) for i in ids if i not in found or not visible_to(who, found[i])}
    return hidden
