"""Opportunities: filters, reads (effective status, view counting), saves and applications."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.core.exceptions import ValidationFailed
from app.core.pagination import PageParams, SortSpec, paginate
from app.models.base import utcnow
from app.models.catalogue import ItemStatus
from app.models.interaction import ApplicationStatus, OpportunityInteraction, OpportunityView
from app.models.opportunity import ROLLING_SORT_DATE, Opportunity
from app.models.profile import BusinessStage
from app.models.reference import ReferenceKind
from app.services import catalogue
from app.services.auth import Principal
from app.services.catalogue import CatalogueKind, ListQuery, ListResult, Viewer


def effective_status(item: Opportunity, now: datetime | None = None) -> ItemStatus:
    """Published and past its deadline reads as closed: no job has to flip it."""
    now = now or utcnow()
    if item.status is ItemStatus.published and item.deadline is not None and item.deadline <= now:
        return ItemStatus.closed
    return item.status


def _deadline_sort(deadline: datetime | None) -> datetime:
    return deadline or ROLLING_SORT_DATE


def prepare_create(data: dict[str, Any]) -> dict[str, Any]:
    data["deadline_sort"] = _deadline_sort(data.get("deadline"))
    return data


def validate_merged(item: Opportunity, changes: dict[str, Any]) -> None:
    """Rules across fields, checked on the item as it will be after a partial update."""
    merged = {**item.model_dump(), **changes}
    problems = []
    if (merged["amount_min"] is not None or merged["amount_max"] is not None) and not merged[
        "currency"
    ]:
        problems.append("currency is required when an amount is given")
    if (
        merged["amount_min"] is not None
        and merged["amount_max"] is not None
        and merged["amount_min"] > merged["amount_max"]
    ):
        problems.append("amount_min must not exceed amount_max")
    if merged["rolling"] and merged["deadline"] is not None:
        if "rolling" in changes and "deadline" not in changes:
            changes["deadline"] = None  # switching to rolling drops the deadline
        elif "deadline" in changes and "rolling" not in changes:
            changes["rolling"] = False
        else:
            problems.append("a rolling opportunity has no deadline")
    if problems:
        raise ValidationFailed(
            "; ".join(problems),
            details=[{"loc": ["body"], "msg": p, "type": "value_error"} for p in problems],
        )
    if "deadline" in changes or "rolling" in changes:
        changes["deadline_sort"] = _deadline_sort(changes.get("deadline", item.deadline))


KIND: CatalogueKind[Opportunity] = CatalogueKind(
    model=Opportunity,
    entity="opportunity",
    code="OPPORTUNITY",
    type_kind=ReferenceKind.opportunity_types,
    sorts={
        "deadline": SortSpec("deadline", "deadline_sort", 1),
        "newest": SortSpec("newest", "published_at", -1, nullable=True),
        "updated": SortSpec("updated", "updated_at", 1),
    },
    default_sort="deadline",
    facet_fields={
        "type": ("type", False),
        "industries": ("industries", True),
        "country": ("eligibility.countries", True),
        "sdgs": ("sdgs", True),
        "tags": ("tags", True),
        "stages": ("eligibility.stages", True),
        "target_communities": ("target_communities", True),
    },
    text_fields=("title", "summary", "description"),
    related=((OpportunityInteraction, "opportunity_id"), (OpportunityView, "opportunity_id")),
    rules=validate_merged,
    # What readers rely on; the rest (tags, industries, sdgs, target_communities: slugs from
    # the reference lists, no free text) goes live at once.
    moderated=frozenset(
        {
            "title",
            "summary",
            "description",
            "type",
            "amount_min",
            "amount_max",
            "currency",
            "deadline",
            "rolling",
            "application_url",
            "eligibility",
        }
    ),
    staff_only=frozenset({"featured"}),  # it boosts ranking
)


@dataclass
class OpportunityFilters(catalogue.CommonFilters):
    stages: list[BusinessStage] = field(default_factory=list)
    deadline_from: datetime | None = None
    deadline_to: datetime | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    currency: str | None = None
    open_now: bool = False
    featured: bool | None = None


async def build_clauses(f: OpportunityFilters) -> list[dict[str, Any]]:
    clauses = await catalogue.common_clauses(
        f, ReferenceKind.opportunity_types, "eligibility.countries", "eligibility.regions"
    )
    if f.stages:
        clauses.append({"eligibility.stages": {"$in": [s.value for s in f.stages]}})
    clauses += catalogue.range_clause("deadline", f.deadline_from, f.deadline_to)
    if (f.amount_min is not None or f.amount_max is not None) and not f.currency:
        raise ValidationFailed(
            "Amount filters need a currency.",
            code="CURRENCY_REQUIRED",
            details=[{"loc": ["query", "currency"], "msg": "required with amount_min/amount_max"}],
        )
    if f.currency:
        clauses.append({"currency": f.currency})
    if f.amount_min is not None:
        clauses.append({"amount_max": {"$gte": f.amount_min}})
    if f.amount_max is not None:
        clauses.append({"amount_min": {"$lte": f.amount_max}})
    if f.open_now:
        clauses.append({"deadline_sort": {"$gt": utcnow()}})
    if f.featured is not None:
        clauses.append({"featured": f.featured})
    return clauses


async def list_opportunities(
    who: Viewer, filters: OpportunityFilters, query: ListQuery, page: PageParams
) -> ListResult[Opportunity]:
    query.clauses = await build_clauses(filters)
    return await catalogue.list_items(KIND, who, query, page)


async def read(who: Viewer, key: str) -> Opportunity:
    item = await catalogue.get_visible(KIND, who, key)
    if who.principal is not None and item.status is ItemStatus.published:
        await _count_view(who.principal, item)
    return item


async def _count_view(principal: Principal, item: Opportunity) -> None:
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


# --- saves and applications -------------------------------------------------------------------


async def _interaction(
    user_id: PydanticObjectId, opportunity_id: PydanticObjectId
) -> dict[str, Any]:
    """The user's interaction row, created on first use (unique on user + opportunity)."""
    collection = OpportunityInteraction.get_motor_collection()
    doc = await collection.find_one_and_update(
        {"user_id": user_id, "opportunity_id": opportunity_id},
        {"$setOnInsert": {"saved": False, "application_status": None, "applied_counted": False}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert doc is not None  # noqa: S101
    return doc


async def _target(who: Viewer, key: str, letting_go: bool) -> Opportunity:
    """Saving or applying needs a visible item; un-saving or clearing your application also
    works on one that has left the public set since (it shows as a tombstone in /me)."""
    assert who.principal is not None  # noqa: S101
    if not letting_go:
        return await catalogue.get_visible(KIND, who, key)
    user_id = who.principal.id

    async def has_row(item: Opportunity) -> bool:
        row = await OpportunityInteraction.find_one({"user_id": user_id, "opportunity_id": item.id})
        return row is not None

    return await catalogue.get_for_own_row(KIND, who, key, has_row)


async def set_saved(who: Viewer, key: str, saved: bool) -> OpportunityInteraction:
    assert who.principal is not None  # noqa: S101
    item = await _target(who, key, letting_go=not saved)
    await _interaction(who.principal.id, item.id)  # type: ignore[arg-type]
    collection = OpportunityInteraction.get_motor_collection()
    now = utcnow()
    # Flip only if it is not already in that state, so the counter moves exactly once.
    flipped = await collection.find_one_and_update(
        {"user_id": who.principal.id, "opportunity_id": item.id, "saved": not saved},
        {"$set": {"saved": saved, "saved_at": now if saved else None, "updated_at": now}},
    )
    if flipped is not None:
        await Opportunity.get_motor_collection().update_one(
            {"_id": item.id}, {"$inc": {"saves": 1 if saved else -1}}
        )
    doc = await OpportunityInteraction.find_one(
        {"user_id": who.principal.id, "opportunity_id": item.id}
    )
    assert doc is not None  # noqa: S101
    return doc


async def set_application(
    who: Viewer, key: str, status: ApplicationStatus | None
) -> OpportunityInteraction:
    assert who.principal is not None  # noqa: S101
    item = await _target(who, key, letting_go=status is None)
    await _interaction(who.principal.id, item.id)  # type: ignore[arg-type]
    collection = OpportunityInteraction.get_motor_collection()
    now = utcnow()
    await collection.update_one(
        {"user_id": who.principal.id, "opportunity_id": item.id},
        {"$set": {"application_status": status.value if status else None, "updated_at": now}},
    )
    if status in (ApplicationStatus.applied, ApplicationStatus.awarded, ApplicationStatus.rejected):
        # Count an application once per user, whatever happens to it later.
        first = await collection.find_one_and_update(
            {"user_id": who.principal.id, "opportunity_id": item.id, "applied_counted": False},
            {"$set": {"applied_counted": True}},
        )
        if first is not None:
            await Opportunity.get_motor_collection().update_one(
                {"_id": item.id}, {"$inc": {"applications": 1}}
            )
    doc = await OpportunityInteraction.find_one(
        {"user_id": who.principal.id, "opportunity_id": item.id}
    )
    assert doc is not None  # noqa: S101
    return doc


MY_SORT = SortSpec("-updated", "updated_at", -1)


async def my_opportunities(
    principal: Principal, status: str | None, page: PageParams
) -> tuple[list[tuple[OpportunityInteraction, Opportunity]], str | None, int | None]:
    filters: dict[str, Any] = {"user_id": principal.id}
    if status == "saved":
        filters["saved"] = True
    elif status:
        try:
            filters["application_status"] = ApplicationStatus(status).value
        except ValueError as exc:
            raise ValidationFailed(
                "Unknown status.",
                code="INVALID_STATUS",
                details=[
                    {
                        "loc": ["query", "status"],
                        "msg": "saved, interested, applied, awarded or rejected",
                    }
                ],
            ) from exc
    else:
        filters["$or"] = [{"saved": True}, {"application_status": {"$ne": None}}]
    rows, cursor, total = await paginate(OpportunityInteraction, filters, MY_SORT, page)
    items = {
        o.id: o
        for o in await Opportunity.find(
            {"_id": {"$in": [r.opportunity_id for r in rows]}}
        ).to_list()
    }
    pairs = [(r, items[r.opportunity_id]) for r in rows if r.opportunity_id in items]
    return pairs, cursor, total
