"""Admin announcements to a segment (role, country, industries, target communities):
created on the request path, fanned out by the worker in batches of users, each notified
through `notify` (preferences decide: announcements are opt-in; quiet hours hold e-mail)."""

from __future__ import annotations

from typing import Any

import structlog
from beanie import PydanticObjectId

from app.core.exceptions import NotFound
from app.models.announcement import Announcement, Segment
from app.models.base import utcnow
from app.models.notification import Notification, Reason, Subject
from app.models.profile import Profile
from app.models.user import User
from app.services import audit, reference
from app.services.access import object_id
from app.services.auth import Principal
from app.services.notifications import Draft, notify, preferences

log = structlog.get_logger("app.notifications")
BATCH = 500


async def create(principal: Principal, values: dict[str, Any]) -> Announcement:
    segment = Segment(**values.pop("segment", {}))
    from app.models.reference import ReferenceKind

    if segment.industries:
        await reference.validate(ReferenceKind.industries, segment.industries, "segment.industries")
    if segment.target_communities:
        await reference.validate(
            ReferenceKind.target_communities,
            segment.target_communities,
            "segment.target_communities",
        )
    doc = Announcement(**values, segment=segment, created_by=principal.id)
    await doc.insert()
    await audit.record(
        principal, "announcement_create", "announcement", doc.id, None, doc.model_dump()
    )
    from app.tasks import alerts

    await alerts.enqueue(alerts.announce, announcement_id=str(doc.id))
    return doc


async def get(announcement_id: str) -> Announcement:
    oid = object_id(announcement_id, "ANNOUNCEMENT_NOT_FOUND", "announcement")
    doc = await Announcement.get(oid)
    if doc is None:
        raise NotFound("The announcement was not found.", code="ANNOUNCEMENT_NOT_FOUND")
    return doc


async def _profile_users(segment: Segment) -> list[PydanticObjectId] | None:
    """Users whose profile fits the segment's profile conditions (None: no such condition)."""
    clauses: list[dict[str, Any]] = []
    if segment.countries:
        clauses.append({"country": {"$in": segment.countries}})
    if segment.industries:
        clauses.append({"industries": {"$in": segment.industries}})
    if segment.target_communities:
        clauses.append({"target_communities": {"$in": segment.target_communities}})
    if not clauses:
        return None
    cursor = Profile.get_motor_collection().find({"$and": clauses}, {"user_id": 1})
    return [PydanticObjectId(p["user_id"]) async for p in cursor]


def draft(doc: Announcement) -> Draft:
    return Draft(
        category="announcement",
        event="announcement",
        dedupe_key=f"announcement:{doc.id}",
        title=doc.title,
        body=doc.body,
        subject=Subject(kind="announcement", id=str(doc.id), title=doc.title),
        reason=Reason(
            type="announcement",
            id=str(doc.id),
            label="RunWei announcements",
            preference="announcement",
        ),
        link=doc.link,
        template="announcement",
    )


async def fan_out(announcement_id: str) -> int:
    """Notify the segment, batch by batch, resuming after the last user reached."""
    doc = await Announcement.get(PydanticObjectId(announcement_id))
    if doc is None or doc.status == "done":
        return 0
    collection = Announcement.get_motor_collection()
    await collection.update_one(
        {"_id": doc.id, "status": "queued"}, {"$set": {"status": "sending"}}
    )
    base: dict[str, Any] = {"is_active": True}
    if doc.segment.roles:
        base["role"] = {"$in": doc.segment.roles}
    among = await _profile_users(doc.segment)
    if among is not None:
        base["_id"] = {"$in": among}
    after = doc.reached_after
    note = draft(doc)
    while True:
        query = dict(base)
        if after is not None:
            query = {"$and": [base, {"_id": {"$gt": after}}]}
        users = (
            await User.get_motor_collection()
            .find(query, {"_id": 1})
            .sort("_id", 1)
            .limit(BATCH)
            .to_list(None)
        )
        if not users:
            break
        ids = [PydanticObjectId(u["_id"]) for u in users]
        prefs = await preferences.get_many(ids)
        for user_id in ids:
            await notify(user_id, note, prefs[user_id])
        # Counted from what exists, not from what this run created: a run that died
        # mid-batch notified some of these already (the retry's `notify` finds them). The
        # batch is counted by the run that moves `reached_after` past it, once.
        reached = await Notification.get_motor_collection().count_documents(
            {"user_id": {"$in": ids}, "dedupe_key": note.dedupe_key}
        )
        await collection.update_one(
            {"_id": doc.id, "reached_after": after},
            {"$set": {"reached_after": ids[-1]}, "$inc": {"recipients": reached}},
        )
        after = ids[-1]
    await collection.update_one(
        {"_id": doc.id}, {"$set": {"status": "done", "finished_at": utcnow()}}
    )
    fresh = await Announcement.get(doc.id)
    total = fresh.recipients if fresh else 0
    log.info("announcement_sent", announcement_id=announcement_id, recipients=total)
    return total
