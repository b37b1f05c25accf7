"""What makes an opportunity an opportunity in the catalogue: its rule function, derived
sort key, list filters, the status readers see, and the kind definition that holds them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.core.pagination import SortSpec
from app.models.base import utcnow
from app.models.catalogue import ItemStatus
from app.models.interaction import OpportunityInteraction, OpportunityView
from app.models.media import MediaOwnerKind
from app.models.opportunity import ROLLING_SORT_DATE, Opportunity
from app.models.reference import ReferenceKind
from app.schemas.opportunity import OpportunityQuery
from app.services.catalogue import CatalogueKind, merged, reject
from app.services.catalogue.kinds import MODERATED, facets, sorts
from app.services.catalogue.search import range_clause


def rules(current: Opportunity | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The opportunity's rules over its state after `changes` (`current` is None on create).

    Amounts need a currency and min ≤ max, and so do the eligibility ranges (years in
    business, team size); a rolling opportunity has no deadline. On an update that sets only
    one of `rolling` and `deadline`, the other follows: switching to rolling drops the
    deadline, giving a deadline ends rolling (returned as implied changes). Raises ValidationFailed listing every problem; never changes its inputs."""
    state = merged(current, changes)
    problems = []
    implied: dict[str, Any] = {}
    low, high = state.get("amount_min"), state.get("amount_max")
    if (low is not None or high is not None) and not state.get("currency"):
        problems.append("currency is required when an amount is given")
    if low is not None and high is not None and low > high:
        problems.append("amount_min must not exceed amount_max")
    problems += _eligibility_ranges(state.get("eligibility"))
    if state.get("rolling") and state.get("deadline") is not None:
        if current is not None and "rolling" in changes and "deadline" not in changes:
            implied["deadline"] = None
        elif current is not None and "deadline" in changes and "rolling" not in changes:
            implied["rolling"] = False
        else:
            problems.append("a rolling opportunity has no deadline")
    reject(problems)
    return implied


def _eligibility_ranges(eligibility: Any) -> list[str]:
    """Each eligibility range (years in business, team size) has min ≤ max."""
    if eligibility is None:
        return []
    values = eligibility if isinstance(eligibility, Mapping) else dict(eligibility)
    problems = []
    for name in ("years_in_business", "team_size"):
        low, high = values.get(f"min_{name}"), values.get(f"max_{name}")
        if low is not None and high is not None and low > high:
            problems.append(f"eligibility.min_{name} must not exceed eligibility.max_{name}")
    return problems


def deadline_sort(item: Opportunity) -> dict[str, Any]:
    """Rolling opportunities (no deadline) sort after every dated one."""
    return {"deadline_sort": item.deadline or ROLLING_SORT_DATE}


def effective_status(item: Opportunity, now: datetime | None = None) -> ItemStatus:
    """Published and past its deadline reads as closed: no job has to flip it."""
    now = now or utcnow()
    if item.status is ItemStatus.published and item.deadline is not None and item.deadline <= now:
        return ItemStatus.closed
    return item.status


def filters(query: OpportunityQuery) -> list[dict[str, Any]]:
    """The opportunity list's own filters (the query model checked them already)."""
    clauses: list[dict[str, Any]] = []
    if query.stages:
        clauses.append({"eligibility.stages": {"$in": [s.value for s in query.stages]}})
    clauses += range_clause("deadline", query.deadline_from, query.deadline_to)
    if query.currency:
        clauses.append({"currency": query.currency})
    if query.amount_min is not None:
        clauses.append({"amount_max": {"$gte": query.amount_min}})
    if query.amount_max is not None:
        clauses.append({"amount_min": {"$lte": query.amount_max}})
    if query.open_now:
        clauses.append({"deadline_sort": {"$gt": utcnow()}})
    if query.featured is not None:
        clauses.append({"featured": query.featured})
    return clauses


KIND: CatalogueKind[Opportunity] = CatalogueKind(
    model=Opportunity,
    entity="opportunity",
    type_kind=ReferenceKind.opportunity_types,
    sorts=sorts(SortSpec("deadline", "deadline_sort", 1)),
    facet_fields=facets(
        country=("eligibility.countries", True), stages=("eligibility.stages", True)
    ),
    country_field="eligibility.countries",
    region_field="eligibility.regions",
    media_owner=MediaOwnerKind.opportunity,
    text_fields=("title", "summary", "description"),
    link_field="application_url",
    date_field="deadline",
    nested_references=(
        ("eligibility", "industries", ReferenceKind.industries),
        ("eligibility", "target_communities", ReferenceKind.target_communities),
    ),
    related=((OpportunityInteraction, "opportunity_id"), (OpportunityView, "opportunity_id")),
    # What readers rely on; the rest (tags, industries, sdgs, target_communities: slugs from
    # the reference lists, no free text) goes live at once.
    moderated=MODERATED
    | {
        "summary",
        "amount_min",
        "amount_max",
        "currency",
        "deadline",
        "rolling",
        "application_url",
        "eligibility",
    },
    staff_only=frozenset({"featured"}),  # it boosts ranking
    rules=rules,
    derived=deadline_sort,
    filters=filters,
    reader_status=effective_status,
)
