"""What users do with opportunities: views (counted once a day), saves, applications, and
the caller's own list of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.pagination import PageParams, SortSpec, paginate
from app.models.base import utcnow
from app.models.interaction import ApplicationStatus, OpportunityInteraction, OpportunityView
from app.models.opportunity import Opportunity
from app.services.auth import Principal
from app.services.catalogue import Rows, Viewer, get_for_own_row, get_visible, show, visible_to
from app.services.opportunities.kind import KIND

MY_SORT = SortSpec("-updated", "updated_at", -1)
# Counted once per user, whatever becomes of the application later.
COUNTED_APPLICATIONS = (
    ApplicationStatus.applied,
    ApplicationStatus.awarded,
    ApplicationStatus.rejected,
)


async def count_view(principal: Principal, item: Opportunity) -> None:
    """At most one view per user per UTC day: the unique index decides, then $inc."""
    now = utcnow()
    try:
        await OpportunityView(
            user_id=principal.id,
            opportunity_id=item.id,
            day=now.strftime("%Y-%m-%d"),
            expires_at=now + timedelta(days=2),
        ).insert()
    except DuplicateKeyError:
        return
    await Opportunity.get_motor_collection().update_one({"_id": item.id}, {"$inc": {"views": 1}})
    item.views += 1


async def ensure_row(user_id: PydanticObjectId, opportunity_id: PydanticObjectId) -> None:
    """The user's interaction row, created on first use: one upsert on the unique (user,
    opportunity) key. Two first uses at once may both try the insert; the loser's duplicate
    key means the row is there, which is all this asks."""
    try:
        await OpportunityInteraction.get_motor_collection().update_one(
            {"user_id": user_id, "opportunity_id": opportunity_id},
            {
                "$setOnInsert": {
                    "saved": False,
                    "application_status": None,
                    "applied_counted": False,
                }
            },
            upsert=True,
        )
    except DuplicateKeyError:
        return


async def _target(who: Viewer, key: str, letting_go: bool) -> Opportunity:
    """Saving or applying needs a visible item; un-saving or clearing your application also
    works on one that has left the public set since (it shows as a tombstone in /me)."""
    if not letting_go:
        return await get_visible(KIND, who, key)
    user_id = who.user.id

    async def has_row(item: Opportunity) -> bool:
        row = await OpportunityInteraction.find_one({"user_id": user_id, "opportunity_id": item.id})
        return row is not None

    return await get_for_own_row(KIND, who, key, has_row)


async def _counted(item_id: PydanticObjectId | None, name: str, delta: int) -> None:
    await Opportunity.get_motor_collection().update_one({"_id": item_id}, {"$inc": {name: delta}})


async def _current(user_id: PydanticObjectId, item: Opportunity) -> OpportunityInteraction:
    doc = await OpportunityInteraction.find_one({"user_id": user_id, "opportunity_id": item.id})
    if doc is None:  # pragma: no cover - created above, never deleted but with the item
        raise KIND.not_found()
    return doc


async def set_saved(who: Viewer, key: str, saved: bool) -> OpportunityInteraction:
    user_id = who.user.id
    item = await _target(who, key, letting_go=not saved)
    assert item.id is not None  # noqa: S101 - a loaded document
    await ensure_row(user_id, item.id)
    now = utcnow()
    # Flip only if it is not already in that state, so the counter moves exactly once.
    flipped = await OpportunityInteraction.get_motor_collection().find_one_and_update(
        {"user_id": user_id, "opportunity_id": item.id, "saved": not saved},
        {"$set": {"saved": saved, "saved_at": now if saved else None, "updated_at": now}},
    )
    if flipped is not None:
        await _counted(item.id, "saves", 1 if saved else -1)
        from app.services import reminders  # (it reaches notifications, which reach us)

        await reminders.sync(user_id, "deadline", item.id)  # deadline reminders follow saves
    return await _current(user_id, item)


async def set_application(
    who: Viewer, key: str, status: ApplicationStatus | None
) -> OpportunityInteraction:
    user_id = who.user.id
    item = await _target(who, key, letting_go=status is None)
    assert item.id is not None  # noqa: S101 - a loaded document
    await ensure_row(user_id, item.id)
    collection = OpportunityInteraction.get_motor_collection()
    mine = {"user_id": user_id, "opportunity_id": item.id}
    await collection.update_one(
        mine,
        {"$set": {"application_status": status.value if status else None, "updated_at": utcnow()}},
    )
    if status in COUNTED_APPLICATIONS:
        first = await collection.find_one_and_update(
            {**mine, "applied_counted": False}, {"$set": {"applied_counted": True}}
        )
        if first is not None:
            await _counted(item.id, "applications", 1)
    return await _current(user_id, item)


async def mine(
    who: Viewer, status: str | None, page: PageParams
) -> Rows[OpportunityInteraction, Opportunity]:
    """The caller's saves and applications (`status`: saved or an application status), each
    with its opportunity — a tombstone view once it is no longer visible to them."""
    filters: dict[str, Any] = {"user_id": who.user.id}
    if status == "saved":
        filters["saved"] = True
    elif status:
        filters["application_status"] = ApplicationStatus(status).value
    else:
        filters["$or"] = [{"saved": True}, {"application_status": {"$ne": None}}]
    rows, cursor, total = await paginate(OpportunityInteraction, filters, MY_SORT, page)
    found = await Opportunity.find({"_id": {"$in": [r.opportunity_id for r in rows]}}).to_list()
    items = {o.id: o for o in found}
    pairs = [(r, items[r.opportunity_id]) for r in rows if r.opportunity_id in items]
    gone = {o.id for _, o in pairs if o.id is not None and not visible_to(who, o)}
    views = await show(KIND, who, [o for _, o in pairs], gone=gone)
    return Rows([(r, v) for (r, _), v in zip(pairs, views, strict=True)], cursor, total)


async def move_rows(source_id: PydanticObjectId, keeper_id: PydanticObjectId) -> int:
    """A merge (services/ingestion/merge.py): every user's save and application on
    `source_id` moves to `keeper_id`, counted there once. A user with a row on both keeps
    one row (saved if either was, the keeper's application status unless it had none).
    Each row moves with one conditional write, so a retried merge moves what is left."""
    collection = OpportunityInteraction.get_motor_collection()
    moved = 0
    async for row in collection.find({"opportunity_id": source_id}):
        mine = {"user_id": row["user_id"], "opportunity_id": keeper_id}
        if await collection.find_one(mine, {"_id": 1}) is None:
            try:
                result = await collection.update_one(
                    {"_id": row["_id"], "opportunity_id": source_id},
                    {"$set": {"opportunity_id": keeper_id}},
                )
            except DuplicateKeyError:  # the user saved the keeper meanwhile: fold below
                result = None
            if result is not None:
                if result.modified_count:
                    moved += 1
                    await _counted(keeper_id, "saves", 1 if row.get("saved") else 0)
                    await _counted(
                        keeper_id, "applications", 1 if row.get("applied_counted") else 0
                    )
                continue
        if row.get("saved"):
            flipped = await collection.find_one_and_update(
                {**mine, "saved": False},
                {"$set": {"saved": True, "saved_at": row.get("saved_at"), "updated_at": utcnow()}},
            )
            if flipped is not None:
                await _counted(keeper_id, "saves", 1)
        if row.get("application_status"):
            await collection.update_one(
                {**mine, "application_status": None},
                {"$set": {"application_status": row["application_status"]}},
            )
        await collection.delete_one({"_id": row["_id"], "opportunity_id": source_id})
        moved += 1
    return moved
