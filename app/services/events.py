"""Events: filters, reads (online link), RSVPs with capacity and waitlist, attendees, iCalendar."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from beanie import PydanticObjectId
from icalendar import Calendar
from icalendar import Event as ICalEvent
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.core.exceptions import Conflict, NotFound, ValidationFailed
from app.core.pagination import PageParams, SortSpec, paginate
from app.models.base import utcnow
from app.models.catalogue import ItemStatus
from app.models.event import Event, EventFormat
from app.models.interaction import Rsvp, RsvpStatus
from app.models.reference import ReferenceKind
from app.models.user import User
from app.services import catalogue
from app.services.auth import Principal
from app.services.capabilities import Action
from app.services.catalogue import CatalogueKind, ListQuery, ListResult, Viewer
from app.utils.text import strip_html


def validate_merged(item: Event, changes: dict[str, Any]) -> None:
    merged = {**item.model_dump(), **changes}
    problems = []
    if merged["end_at"] <= merged["start_at"]:
        problems.append("end_at must be after start_at")
    if merged["registration_deadline"] and merged["registration_deadline"] > merged["end_at"]:
        problems.append("registration_deadline must not be after end_at")
    if merged["price"] and not merged["currency"]:
        problems.append("currency is required for a paid event")
    if merged["format"] != EventFormat.online and not merged["venue"]:
        problems.append("an in-person or hybrid event needs a venue")
    if (
        "capacity" in changes
        and changes["capacity"] is not None
        and changes["capacity"] < item.going_count
    ):
        problems.append(f"capacity cannot drop below the {item.going_count} people going")
    if problems:
        raise ValidationFailed(
            "; ".join(problems),
            details=[{"loc": ["body"], "msg": p, "type": "value_error"} for p in problems],
        )


KIND: CatalogueKind[Event] = CatalogueKind(
    model=Event,
    entity="event",
    code="EVENT",
    type_kind=ReferenceKind.event_types,
    sorts={
        "start": SortSpec("start", "start_at", 1),
        "newest": SortSpec("newest", "published_at", -1, nullable=True),
        "updated": SortSpec("updated", "updated_at", 1),
    },
    default_sort="start",
    facet_fields={
        "type": ("type", False),
        "industries": ("industries", True),
        "country": ("venue.country", False),
        "sdgs": ("sdgs", True),
        "tags": ("tags", True),
        "format": ("format", False),
        "target_communities": ("target_communities", True),
    },
    related=((Rsvp, "event_id"),),
    rules=validate_merged,
    # What readers rely on; the rest goes live at once: capacity (organisers must be able to
    # add seats; it never drops below the people going) and the reference-list slugs.
    moderated=frozenset(
        {
            "title",
            "description",
            "type",
            "start_at",
            "end_at",
            "timezone",
            "format",
            "venue",
            "online_url",
            "registration_deadline",
            "price",
            "currency",
        }
    ),
)


@dataclass
class EventFilters(catalogue.CommonFilters):
    formats: list[EventFormat] = field(default_factory=list)
    city: str | None = None
    start_from: datetime | None = None
    start_to: datetime | None = None
    open_now: bool = False
    free: bool | None = None


async def build_clauses(f: EventFilters) -> list[dict[str, Any]]:
    clauses = await catalogue.common_clauses(
        f, ReferenceKind.event_types, "venue.country", "venue.region"
    )
    if f.formats:
        clauses.append({"format": {"$in": [x.value for x in f.formats]}})
    if f.city:
        clauses.append({"venue.city": f.city})
    clauses += catalogue.range_clause("start_at", f.start_from, f.start_to)
    if f.open_now:
        now = utcnow()
        clauses.append({"end_at": {"$gt": now}})
        clauses.append(
            {"$or": [{"registration_deadline": None}, {"registration_deadline": {"$gt": now}}]}
        )
    if f.free is not None:
        clauses.append({"price": 0} if f.free else {"price": {"$gt": 0}})
    return clauses


async def list_events(
    who: Viewer, filters: EventFilters, query: ListQuery, page: PageParams
) -> ListResult[Event]:
    query.clauses = await build_clauses(filters)
    return await catalogue.list_items(KIND, who, query, page)


async def shows_link(who: Viewer, event: Event) -> bool:
    """The online link is for organisers and for people with a confirmed (going) RSVP."""
    if who.manages(event):
        return True
    if who.principal is None:
        return False
    rsvp = await Rsvp.find_one({"event_id": event.id, "user_id": who.principal.id})
    return rsvp is not None and rsvp.status is RsvpStatus.going


async def going_event_ids(who: Viewer, events: list[Event]) -> set[PydanticObjectId]:
    """For lists: the events among `events` the caller is going to (one query)."""
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


# --- RSVPs ------------------------------------------------------------------------------------


def _open_for_rsvp(event: Event) -> None:
    now = utcnow()
    if event.status is not ItemStatus.published:
        raise Conflict("This event is not open for RSVPs.", code="EVENT_NOT_OPEN")
    if event.end_at <= now:
        raise Conflict("This event is over.", code="EVENT_OVER")
    if event.registration_deadline and event.registration_deadline <= now:
        raise Conflict("Registration for this event has closed.", code="REGISTRATION_CLOSED")


async def _claim_seat(event_id: PydanticObjectId, capacity: int | None) -> bool:
    if capacity is None:
        await Event.get_motor_collection().update_one(
            {"_id": event_id}, {"$inc": {"going_count": 1}}
        )
        return True
    doc = await Event.get_motor_collection().find_one_and_update(
        {"_id": event_id, "going_count": {"$lt": capacity}}, {"$inc": {"going_count": 1}}
    )
    return doc is not None


async def _next_waitlist_position(event_id: PydanticObjectId) -> int:
    doc = await Event.get_motor_collection().find_one_and_update(
        {"_id": event_id},
        {"$inc": {"waitlist_seq": 1, "waitlist_count": 1}},
        return_document=ReturnDocument.AFTER,
        projection={"waitlist_seq": 1},
    )
    assert doc is not None  # noqa: S101
    return int(doc["waitlist_seq"])


async def _counter(event_id: PydanticObjectId, name: str, delta: int) -> None:
    await Event.get_motor_collection().update_one({"_id": event_id}, {"$inc": {name: delta}})


async def _take_place(event: Event) -> tuple[RsvpStatus, int | None]:
    """Going if a seat is free, otherwise the next place on the waitlist."""
    assert event.id is not None  # noqa: S101
    if await _claim_seat(event.id, event.capacity):
        return RsvpStatus.going, None
    return RsvpStatus.waitlisted, await _next_waitlist_position(event.id)


async def _release(event: Event, status: RsvpStatus) -> None:
    """Undo what a status held: a seat (then promote the waitlist), a waitlist place, interest."""
    assert event.id is not None  # noqa: S101
    if status is RsvpStatus.going:
        await _counter(event.id, "going_count", -1)
        await promote_waitlist(event.id)
    elif status is RsvpStatus.waitlisted:
        await _counter(event.id, "waitlist_count", -1)
    elif status is RsvpStatus.interested:
        await _counter(event.id, "interested_count", -1)


async def promote_waitlist(event_id: PydanticObjectId) -> int:
    """Fill free seats from the head of the waitlist, in order. Returns how many moved."""
    moved = 0
    while True:
        event = await Event.get(event_id)
        if event is None or event.waitlist_count <= 0:
            return moved
        if not await _claim_seat(event_id, event.capacity):
            return moved
        head = await Rsvp.get_motor_collection().find_one_and_update(
            {"event_id": event_id, "status": RsvpStatus.waitlisted.value},
            {
                "$set": {
                    "status": RsvpStatus.going.value,
                    "waitlist_position": None,
                    "updated_at": utcnow(),
                }
            },
            sort=[("waitlist_position", 1)],
        )
        if head is None:  # nobody left after all: give the seat back
            await _counter(event_id, "going_count", -1)
            return moved
        await _counter(event_id, "waitlist_count", -1)
        moved += 1


async def rsvp(who: Viewer, key: str, wanted: RsvpStatus) -> Rsvp:
    assert who.principal is not None  # noqa: S101
    if wanted is RsvpStatus.waitlisted:
        raise ValidationFailed(
            "Ask for going or interested; the waitlist is assigned.",
            code="INVALID_RSVP_STATUS",
            details=[{"loc": ["body", "status"], "msg": "going or interested"}],
        )
    event = await catalogue.get_visible(KIND, who, key)
    _open_for_rsvp(event)
    assert event.id is not None  # noqa: S101
    user_id = who.principal.id
    existing = await Rsvp.find_one({"event_id": event.id, "user_id": user_id})
    if existing is not None:
        return await _change(event, existing, wanted)
    if wanted is RsvpStatus.interested:
        status, position = RsvpStatus.interested, None
        await _counter(event.id, "interested_count", 1)
    else:
        status, position = await _take_place(event)
    try:
        return await Rsvp(
            event_id=event.id, user_id=user_id, status=status, waitlist_position=position
        ).insert()
    except DuplicateKeyError:
        # The same user raced themselves: undo our claim and treat it as a change.
        await _release(event, status)
        again = await Rsvp.find_one({"event_id": event.id, "user_id": user_id})
        assert again is not None  # noqa: S101
        return await _change(event, again, wanted)


async def _change(event: Event, current: Rsvp, wanted: RsvpStatus) -> Rsvp:
    assert event.id is not None  # noqa: S101
    if current.status is wanted or (
        current.status is RsvpStatus.waitlisted and wanted is RsvpStatus.going
    ):
        return current  # idempotent: already there (or already queued for a seat)
    if wanted is RsvpStatus.going:
        status, position = await _take_place(event)
    else:
        status, position = RsvpStatus.interested, None
        await _counter(event.id, "interested_count", 1)
    updated = await Rsvp.get_motor_collection().find_one_and_update(
        {"_id": current.id, "status": current.status.value},
        {"$set": {"status": status.value, "waitlist_position": position, "updated_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    if updated is None:  # changed concurrently: undo our claim
        await _release(event, status)
        raise Conflict("Your RSVP changed meanwhile; try again.", code="CONCURRENT_CHANGE")
    await _release(event, current.status)
    fresh = await Rsvp.get(current.id)
    assert fresh is not None  # noqa: S101
    return fresh


async def cancel_rsvp(who: Viewer, key: str) -> None:
    """Also for an event that left the public set since (it shows as a tombstone in /me)."""
    assert who.principal is not None  # noqa: S101
    user_id = who.principal.id

    async def has_rsvp(event: Event) -> bool:
        return await Rsvp.find_one({"event_id": event.id, "user_id": user_id}) is not None

    event = await catalogue.get_for_own_row(KIND, who, key, has_rsvp)
    deleted = await Rsvp.get_motor_collection().find_one_and_delete(
        {"event_id": event.id, "user_id": who.principal.id}
    )
    if deleted is None:
        raise NotFound("You have no RSVP for this event.", code="RSVP_NOT_FOUND")
    await _release(event, RsvpStatus(deleted["status"]))


# --- organisers: attendees, CSV; me: my events; iCalendar ---------------------------------------

ATTENDEE_SORT = SortSpec("created", "created_at", 1)


async def attendees(
    who: Viewer, key: str, status: RsvpStatus | None, page: PageParams
) -> tuple[list[tuple[Rsvp, User | None]], str | None, int | None]:
    event = await _organiser_view(who, key)
    filters: dict[str, Any] = {"event_id": event.id}
    if status:
        filters["status"] = status.value
    rows, cursor, total = await paginate(Rsvp, filters, ATTENDEE_SORT, page)
    users = {
        u.id: u for u in await User.find({"_id": {"$in": [r.user_id for r in rows]}}).to_list()
    }
    return [(r, users.get(r.user_id)) for r in rows], cursor, total


async def _organiser_view(who: Viewer, key: str) -> Event:
    return await catalogue.get_managed(KIND, who, key, Action.item_view_attendees)


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def attendees_csv(who: Viewer, key: str) -> tuple[str, str]:
    event = await _organiser_view(who, key)
    rows = await Rsvp.find({"event_id": event.id}).sort("+created_at", "+_id").to_list()
    users = {
        u.id: u for u in await User.find({"_id": {"$in": [r.user_id for r in rows]}}).to_list()
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["full_name", "email", "status", "waitlist_position", "rsvp_at"])
    for r in rows:
        user = users.get(r.user_id)
        writer.writerow(
            [
                _csv_safe(user.full_name if user else ""),
                _csv_safe(user.email if user else ""),
                r.status.value,
                r.waitlist_position or "",
                r.created_at.isoformat(),
            ]
        )
    return buffer.getvalue(), f"{event.slug}-attendees.csv"


MY_EVENTS_SORT = SortSpec("-created", "created_at", -1)


async def my_events(
    principal: Principal, page: PageParams
) -> tuple[list[tuple[Rsvp, Event]], str | None, int | None]:
    rows, cursor, total = await paginate(Rsvp, {"user_id": principal.id}, MY_EVENTS_SORT, page)
    events = {
        e.id: e for e in await Event.find({"_id": {"$in": [r.event_id for r in rows]}}).to_list()
    }
    return [(r, events[r.event_id]) for r in rows if r.event_id in events], cursor, total


async def ical(who: Viewer, key: str, base_url: str) -> tuple[bytes, str]:
    event = await catalogue.get_visible(KIND, who, key)
    show_link = await shows_link(who, event)
    cal = Calendar()
    cal.add("prodid", "-//RunWei//RunWei API//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    vevent = ICalEvent()
    vevent.add("uid", f"{event.id}@runwei")
    vevent.add("dtstamp", utcnow())
    zone = ZoneInfo(event.timezone)
    vevent.add("dtstart", event.start_at.astimezone(zone))
    vevent.add("dtend", event.end_at.astimezone(zone))
    vevent.add("summary", event.title)
    vevent.add("description", strip_html(event.description))
    vevent.add("url", f"{base_url}/api/v1/events/{event.id}")
    vevent.add("status", "CANCELLED" if event.status is ItemStatus.cancelled else "CONFIRMED")
    location = ", ".join(
        p
        for p in ([event.venue.name, event.venue.address, event.venue.city] if event.venue else [])
        if p
    )
    if show_link and event.online_url:
        location = f"{location} | {event.online_url}" if location else event.online_url
    if location:
        vevent.add("location", location)
    if event.venue and event.venue.lat is not None and event.venue.lng is not None:
        vevent.add("geo", (event.venue.lat, event.venue.lng))
    cal.add_component(vevent)
    cal.add_missing_timezones()
    return cal.to_ical(), f"{event.slug}.ics"
