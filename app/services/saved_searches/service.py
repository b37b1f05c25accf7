"""Saved searches: create (up to SAVED_SEARCHES_PER_USER), list, read, change, delete, and
the items matched since the user last looked. Another user's search is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.config import Settings
from app.core.exceptions import Conflict, NotFound
from app.core.pagination import PageParams, SortSpec, paginate
from app.models.base import utcnow
from app.models.catalogue import ItemStatus
from app.models.event import Event
from app.models.opportunity import Opportunity
from app.models.saved_search import (
    SavedSearch,
    SavedSearchCount,
    SavedSearchMatch,
    SavedSearchVersion,
    SearchKind,
)
from app.services.access import object_id
from app.services.auth import Principal
from app.services.saved_searches import queries

SORT = SortSpec("-created", "created_at", -1)
MATCH_SORT = SortSpec("-matched", "matched_at", -1)
MODELS: dict[str, type[Opportunity] | type[Event]] = {"opportunity": Opportunity, "event": Event}


def _not_found() -> NotFound:
    return NotFound("The saved search was not found.", code="SAVED_SEARCH_NOT_FOUND")


async def _compiled(kind: SearchKind, params: dict[str, Any]) -> dict[str, Any]:
    query = queries.parse(kind, params)
    await queries.check_references(kind, query)
    spec = queries.compile_spec(kind, query)
    return {
        "params": queries.stored_params(query),
        "spec": spec,
        "keys": queries.search_keys(kind, spec),
    }


async def _take_slot(settings: Settings, user_id: PydanticObjectId) -> None:
    """One conditional increment under the cap (a missing counter is created by it)."""
    try:
        await SavedSearchCount.get_motor_collection().update_one(
            {"_id": user_id, "n": {"$lt": settings.saved_searches_per_user}},
            {"$inc": {"n": 1}},
            upsert=True,
        )
    except DuplicateKeyError:  # the counter exists and is at the cap
        raise Conflict(
            f"You can keep at most {settings.saved_searches_per_user} saved searches.",
            code="SAVED_SEARCH_LIMIT",
        ) from None


async def changed() -> None:
    """Tell percolators something changed (after the write, so a percolator that read the
    old version re-reads and sees it)."""
    await SavedSearchVersion.get_motor_collection().update_one(
        {"_id": "all"}, {"$inc": {"version": 1}}, upsert=True
    )


async def _free_slot(user_id: PydanticObjectId) -> None:
    await SavedSearchCount.get_motor_collection().update_one(
        {"_id": user_id, "n": {"$gt": 0}}, {"$inc": {"n": -1}}
    )


async def create(
    settings: Settings,
    principal: Principal,
    name: str,
    kind: SearchKind,
    params: dict[str, Any],
    alert: str,
) -> SavedSearch:
    compiled = await _compiled(kind, params)  # a bad query costs no slot
    await _take_slot(settings, principal.id)
    now = utcnow()
    doc = SavedSearch(
        user_id=principal.id,
        kind=kind,
        name=name,
        alert=alert,
        created_at=now,
        updated_at=now,
        **compiled,
    )
    try:
        await doc.insert()
    except BaseException:
        await _free_slot(principal.id)
        raise
    await changed()
    return doc


async def get(principal: Principal, search_id: str) -> SavedSearch:
    oid = object_id(search_id, "SAVED_SEARCH_NOT_FOUND", "saved search")
    doc = await SavedSearch.find_one({"_id": oid, "user_id": principal.id, "active": True})
    if doc is None:
        raise _not_found()
    return doc


async def list_mine(
    principal: Principal, kind: SearchKind | None, page: PageParams
) -> tuple[list[SavedSearch], str | None, int | None]:
    filters: dict[str, Any] = {"user_id": principal.id, "active": True}
    if kind:
        filters["kind"] = kind
    return await paginate(SavedSearch, filters, SORT, page)


async def update(principal: Principal, search_id: str, changes: dict[str, Any]) -> SavedSearch:
    doc = await get(principal, search_id)
    values: dict[str, Any] = {k: v for k, v in changes.items() if k in ("name", "alert")}
    if changes.get("query") is not None:
        values.update(await _compiled(doc.kind, changes["query"]))
    if not values:
        return doc
    values["updated_at"] = utcnow()
    result = await SavedSearch.get_motor_collection().update_one(
        {"_id": doc.id, "user_id": principal.id, "active": True}, {"$set": values}
    )
    if result.matched_count == 0:
        raise _not_found()
    await changed()
    return await get(principal, search_id)


async def delete(principal: Principal, search_id: str) -> None:
    """Marked inactive (percolators reading changes drop it), and its slot is freed."""
    doc = await get(principal, search_id)
    result = await SavedSearch.get_motor_collection().update_one(
        {"_id": doc.id, "active": True}, {"$set": {"active": False, "updated_at": utcnow()}}
    )
    if result.modified_count:
        await _free_slot(principal.id)
        await changed()


async def stop_alerts(user_id: PydanticObjectId, search_id: PydanticObjectId) -> SavedSearch | None:
    """One-click unsubscribe from a saved search's e-mail (the search itself stays)."""
    await SavedSearch.get_motor_collection().update_one(
        {"_id": search_id, "user_id": user_id}, {"$set": {"alert": "off", "updated_at": utcnow()}}
    )
    await changed()
    return await SavedSearch.find_one({"_id": search_id, "user_id": user_id})


async def _window(doc: SavedSearch, fresh_look: bool) -> tuple[datetime, datetime]:
    """The window of "new since you last looked". A first page starts a new look (one
    conditional update, so two looks at once do not both move it); later pages (with a
    cursor) stay in the window the first page opened."""
    if not fresh_look and doc.looked_at is not None and doc.looked_until is not None:
        return doc.looked_at, doc.looked_until
    since = doc.looked_until or doc.created_at
    now = utcnow()
    result = await SavedSearch.get_motor_collection().update_one(
        {"_id": doc.id, "looked_until": doc.looked_until},
        {"$set": {"looked_at": since, "looked_until": now}},
    )
    if result.modified_count == 0:  # someone looked meanwhile: show their window
        fresh = await SavedSearch.get(doc.id)
        if fresh is not None and fresh.looked_at is not None and fresh.looked_until is not None:
            return fresh.looked_at, fresh.looked_until
    return since, now


async def matches(
    principal: Principal, search_id: str, page: PageParams
) -> tuple[list[tuple[SavedSearchMatch, Opportunity | Event]], str | None, datetime, datetime]:
    doc = await get(principal, search_id)
    since, until = await _window(doc, fresh_look=page.cursor is None)
    filters = {"search_id": doc.id, "matched_at": {"$gt": since, "$lte": until}}
    rows, cursor, _ = await paginate(SavedSearchMatch, filters, MATCH_SORT, page)
    model = MODELS[doc.kind]
    found = await model.find(
        {"_id": {"$in": [r.item_id for r in rows]}, "status": ItemStatus.published.value}
    ).to_list()
    items = {i.id: i for i in found}
    return [(r, items[r.item_id]) for r in rows if r.item_id in items], cursor, since, until
