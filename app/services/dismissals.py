"""Dismissals: "never show me this again". Alerts, digests and recommendations leave out
what a user dismissed (`dismissed_ids`); the reason teaches the recommender.

Dismissing needs an item the caller can see (anything else is a 404, so the endpoint
reveals nothing); taking a dismissal back works whatever became of the item.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.core.exceptions import NotFound
from app.core.pagination import PageParams, SortSpec, paginate
from app.models.base import utcnow
from app.models.dismissal import Dismissal, DismissReason, ItemKind
from app.services import events, opportunities
from app.services.access import object_id
from app.services.catalogue import CatalogueKind, Viewer, get_visible

KINDS: dict[ItemKind, CatalogueKind[Any]] = {
    "opportunity": opportunities.KIND,
    "event": events.KIND,
}
SORT = SortSpec("-updated", "updated_at", -1)


async def dismiss(
    who: Viewer, kind: ItemKind, key: str, reason: DismissReason | None, note: str | None
) -> Dismissal:
    """Dismiss (or re-dismiss with a new reason) a visible item: one upsert on the unique key."""
    item = await get_visible(KINDS[kind], who, key)
    now = utcnow()
    where = {"user_id": who.user.id, "kind": kind, "item_id": item.id}
    change = {
        "$set": {"reason": reason.value if reason else None, "note": note, "updated_at": now},
        "$setOnInsert": {"created_at": now},
    }
    collection = Dismissal.get_motor_collection()
    try:
        raw = await collection.find_one_and_update(
            where, change, upsert=True, return_document=ReturnDocument.AFTER
        )
    except DuplicateKeyError:  # two first dismissals at once: the row is there now
        raw = await collection.find_one_and_update(
            where, change, return_document=ReturnDocument.AFTER
        )
    return cast(Dismissal, Dismissal.model_validate(raw))


async def undismiss(who: Viewer, kind: ItemKind, item_id: str) -> None:
    """Take a dismissal back (the item may be gone by now). Unknown: 404."""
    oid = object_id(item_id, "DISMISSAL_NOT_FOUND", "dismissal")
    result = await Dismissal.get_motor_collection().delete_one(
        {"user_id": who.user.id, "kind": kind, "item_id": oid}
    )
    if result.deleted_count == 0:
        raise NotFound("The dismissal was not found.", code="DISMISSAL_NOT_FOUND")


async def list_mine(
    who: Viewer, kind: ItemKind | None, page: PageParams
) -> tuple[list[Dismissal], str | None, int | None]:
    filters: dict[str, Any] = {"user_id": who.user.id}
    if kind:
        filters["kind"] = kind
    return await paginate(Dismissal, filters, SORT, page)


async def dismissed_ids(
    user_id: PydanticObjectId, kind: str, among: Iterable[PydanticObjectId] | None = None
) -> set[PydanticObjectId]:
    """The ids of `kind` items the user dismissed (optionally only those in `among`)."""
    filters: dict[str, Any] = {"user_id": user_id, "kind": kind}
    if among is not None:
        filters["item_id"] = {"$in": list(among)}
    cursor = Dismissal.get_motor_collection().find(filters, {"item_id": 1, "_id": 0})
    return {PydanticObjectId(row["item_id"]) async for row in cursor}


async def reasons(user_id: PydanticObjectId, kind: str) -> dict[PydanticObjectId, str | None]:
    """Each dismissed item with its reason (for the recommender's feedback)."""
    cursor = Dismissal.get_motor_collection().find(
        {"user_id": user_id, "kind": kind}, {"item_id": 1, "reason": 1, "_id": 0}
    )
    return {PydanticObjectId(row["item_id"]): row.get("reason") async for row in cursor}
