"""What makes an event an event in the catalogue: its rule function, list filters, who sees
the online link, and the kind definition that holds them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from beanie import PydanticObjectId

from app.core.pagination import SortSpec
from app.models.base import utcnow
from app.models.event import Event, EventFormat
from app.models.interaction import Rsvp, RsvpStatus
from app.models.media import MediaOwnerKind
from app.models.reference import ReferenceKind
from app.schemas.event import EventQuery
from app.services.catalogue import CatalogueKind, Viewer, merged, reject
from app.services.catalogue.kinds import MODERATED, facets, sorts
from app.services.catalogue.search import range_clause


def rules(current: Event | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The event's rules over its state after `changes` (`current` is None on create).

    It ends after it starts; registration closes by the end; a paid event has a currency;
    an in-person or hybrid event has a venue; capacity never drops below the people going
    (update only). Raises ValidationFailed listing every problem; implies nothing."""
    state = merged(current, changes)
    problems = []
    if state["end_at"] <= state["start_at"]:
        problems.append("end_at must be after start_at")
    if state.get("registration_deadline") and state["registration_deadline"] > state["end_at"]:
        problems.append("registration_deadline must not be after end_at")
    if state.get("price") and not state.get("currency"):
        problems.append("currency is required for a paid event")
    if state["format"] != EventFormat.online and not state.get("venue"):
        problems.append("an in-person or hybrid event needs a venue")
    capacity = changes.get("capacity")
    if current is not None and capacity is not None and capacity < current.going_count:
        problems.append(f"capacity cannot drop below the {current.going_count} people going")
    reject(problems)
    return {}


def filters(query: EventQuery) -> list[dict[str, Any]]:
    """The event list's own filters (the query model checked them already)."""
    clauses: list[dict[str, Any]] = []
    if query.format:
        clauses.append({"format": {"$in": [x.value for x in query.format]}})
    if query.city:
        clauses.append({"venue.city": query.city})
    clauses += range_clause("start_at", query.start_from, query.start_to)
    if query.open_now:
        now = utcnow()
        clauses.append({"end_at": {"$gt": now}})
        clauses.append(
            {"$or": [{"registration_deadline": None}, {"registration_deadline": {"$gt": now}}]}
        )
    if query.free is not None:
        clauses.append({"price": 0} if query.free else {"price": {"$gt": 0}})
    return clauses


async def going(who: Viewer, events: list[Event]) -> set[PydanticObjectId]:
    """The online link is for organisers and people going: among `events`, those the caller
    has a confirmed RSVP for (one query for a whole page)."""
    if who.principal is None or not events:
        return set()
    cursor = Rsvp.get_motor_collection().find(
        {
            "user_id": who.principal.id,
            "event_id": {"$in": [e.id for e in events]},
            "status": RsvpStatus.going.value,
        },
        {"event_id": 1},
    )
    return {PydanticObjectId(d["event_id"]) async for d in cursor}


KIND: CatalogueKind[Event] = CatalogueKind(
    model=Event,
    entity="event",
    type_kind=ReferenceKind.event_types,
    sorts=sorts(SortSpec("start", "start_at", 1)),
    facet_fields=facets(country=("venue.country", False), format=("format", False)),
    country_field="venue.country",
    region_field="venue.region",
    media_owner=MediaOwnerKind.event,
    date_field="start_at",
    related=((Rsvp, "event_id"),),
    # What readers rely on; the rest goes live at once: capacity (organisers must be able to
    # add seats; it never drops below the people going) and the reference-list slugs.
    moderated=MODERATED
    | {
        "start_at",
        "end_at",
        "timezone",
        "format",
        "venue",
        "online_url",
        "registration_deadline",
        "price",
        "currency",
    },
    rules=rules,
    filters=filters,
    insiders=going,
    geo_fields=("venue.lat", "venue.lng"),
)
