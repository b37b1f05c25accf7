"""Staff decide suggested duplicates: merge (keep one) or dismiss.

A merge keeps one item and folds the other into it, in steps that are each one conditional
write and safe to repeat, so a retried or interrupted merge finishes the same way:

1. the suggestion records which item is kept (only while open, and only that choice —
   two staff choosing differently cannot merge each into the other);
2. the other item is archived with `merged_into`: its id and slug lead to the kept one
   from then on (`services/access.by_id_or_slug`), and sync clients see it leave;
3. saves and applications (opportunities) or RSVPs (events) move to the kept item, each
   counted there once (the domain modules' `move_rows` / `move_rsvps`);
4. what else users hold on it moves too (`ingestion.holdings`: dismissals, saved-search
   matches, reminders, notifications' subject);
5. its ingestion keys point at the kept item, so its source updates that one;
6. the suggestion is marked merged (audited).
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.core.exceptions import Conflict, NotFound, ValidationFailed
from app.core.pagination import SortSpec, paginate
from app.models.base import utcnow
from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.ingestion import DuplicateSuggestion, IngestedEntry, TargetKind
from app.schemas.ingestion import DuplicateQuery
from app.services import audit
from app.services.access import object_id
from app.services.auth import Principal
from app.services.catalogue import CatalogueKind
from app.services.events import KIND as EVENT_KIND
from app.services.events.rsvps import move_rsvps
from app.services.ingestion import holdings
from app.services.opportunities import KIND as OPPORTUNITY_KIND
from app.services.opportunities.interactions import move_rows

KINDS: dict[TargetKind, CatalogueKind[Any]] = {
    "opportunity": OPPORTUNITY_KIND,
    "event": EVENT_KIND,
}
NEWEST = SortSpec("newest", "created_at", -1)


async def page(
    query: DuplicateQuery,
) -> tuple[list[tuple[DuplicateSuggestion, list[CatalogueItem]]], str | None, int | None]:
    """Suggestions (newest first) with their two items (one query per kind per page)."""
    filters: dict[str, Any] = {"state": query.state}
    if query.target:
        filters["target"] = query.target
    if query.tier:
        filters["tier"] = query.tier
    rows, cursor, total = await paginate(DuplicateSuggestion, filters, NEWEST, query.page)
    items: dict[PydanticObjectId, CatalogueItem] = {}
    for target, kind in KINDS.items():
        ids = [i for r in rows if r.target == target for i in r.item_ids]
        if ids:
            items.update({d.id: d for d in await kind.model.find({"_id": {"$in": ids}}).to_list()})
    return [(r, [items[i] for i in r.item_ids if i in items]) for r in rows], cursor, total


def _suggestion(doc: dict[str, Any]) -> DuplicateSuggestion:
    found: DuplicateSuggestion = DuplicateSuggestion.model_validate(doc)
    return found


async def _get(suggestion_id: str) -> DuplicateSuggestion:
    found = await DuplicateSuggestion.get(
        object_id(suggestion_id, "DUPLICATE_NOT_FOUND", "duplicate")
    )
    if found is None:
        raise NotFound("The duplicate suggestion was not found.", code="DUPLICATE_NOT_FOUND")
    return found


async def merge(who: Principal, suggestion_id: str, keep: str | None) -> DuplicateSuggestion:
    suggestion = await _get(suggestion_id)
    if suggestion.state == "dismissed":
        raise Conflict("This suggestion was dismissed.", code="DUPLICATE_DISMISSED")
    kept = _kept_id(suggestion, keep)
    collection = DuplicateSuggestion.get_motor_collection()
    claimed = await collection.find_one_and_update(
        {"_id": suggestion.id, "state": {"$ne": "dismissed"}, "kept_id": {"$in": [None, kept]}},
        {"$set": {"kept_id": kept}},
        return_document=ReturnDocument.AFTER,
    )
    if claimed is None:
        raise Conflict(
            "This suggestion is being merged into the other item.", code="DUPLICATE_MERGE_CONFLICT"
        )
    kind = KINDS[suggestion.target]
    other = next(i for i in suggestion.item_ids if i != kept)
    keeper = await kind.model.get(kept)
    if keeper is None or keeper.merged_into is not None:
        raise Conflict(
            "The item to keep is gone or was merged itself.", code="DUPLICATE_KEEPER_GONE"
        )
    duplicate = await kind.model.get(other)
    if duplicate is not None:
        await _fold(kind, who, duplicate, keeper)
    done = await collection.find_one_and_update(
        {"_id": suggestion.id, "kept_id": kept},
        {"$set": {"state": "merged", "decided_by": who.id, "decided_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    return _suggestion(done) if done else suggestion


def _kept_id(suggestion: DuplicateSuggestion, keep: str | None) -> PydanticObjectId:
    if keep is None:
        return suggestion.kept_id or suggestion.item_ids[0]
    if not PydanticObjectId.is_valid(keep) or PydanticObjectId(keep) not in suggestion.item_ids:
        raise ValidationFailed(
            "keep must be one of the suggestion's two items.",
            code="INVALID_KEEP",
            details=[{"loc": ["body", "keep"], "msg": "one of item_ids"}],
        )
    return PydanticObjectId(keep)


async def _fold(
    kind: CatalogueKind[Any], who: Principal, duplicate: CatalogueItem, keeper: CatalogueItem
) -> None:
    if duplicate.merged_into not in (None, keeper.id):
        raise Conflict("The other item was merged elsewhere.", code="DUPLICATE_MERGE_CONFLICT")
    if duplicate.merged_into is None:
        before = duplicate.status
        await kind.model.get_motor_collection().update_one(
            {"_id": duplicate.id, "merged_into": None},
            {
                "$set": {
                    "merged_into": keeper.id,
                    "status": ItemStatus.archived.value,
                    "status_before_archive": (
                        duplicate.status_before_archive.value
                        if before is ItemStatus.archived and duplicate.status_before_archive
                        else before.value
                    ),
                    "status_reason": f"merged into {keeper.id}",
                    "updated_at": utcnow(),
                },
                "$inc": {"version": 1},
            },
        )
        await audit.record(
            who,
            "merge",
            kind.entity,
            duplicate.id,
            {"status": before.value, "merged_into": None},
            {"status": ItemStatus.archived.value, "merged_into": str(keeper.id)},
        )
        await kind.announce(duplicate.id, {"status", "merged_into"})  # recommendations
    assert duplicate.id is not None  # noqa: S101
    assert keeper.id is not None  # noqa: S101
    if kind is OPPORTUNITY_KIND:
        await move_rows(duplicate.id, keeper.id)
        await holdings.move("opportunity", duplicate.id, keeper.id)
    else:
        await move_rsvps(duplicate, keeper)
        await holdings.move("event", duplicate.id, keeper.id)
    await IngestedEntry.get_motor_collection().update_many(
        {"item_id": duplicate.id}, {"$set": {"item_id": keeper.id}}
    )


async def dismiss(who: Principal, suggestion_id: str) -> DuplicateSuggestion:
    suggestion = await _get(suggestion_id)
    done = await DuplicateSuggestion.get_motor_collection().find_one_and_update(
        {"_id": suggestion.id, "state": "open", "kept_id": None},
        {"$set": {"state": "dismissed", "decided_by": who.id, "decided_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    if done is not None:
        return _suggestion(done)
    fresh = await _get(suggestion_id)
    if fresh.state == "dismissed":
        return fresh  # dismissing again changes nothing
    raise Conflict("This suggestion was merged.", code="DUPLICATE_ALREADY_MERGED")
