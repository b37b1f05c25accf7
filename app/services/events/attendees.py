"""Organisers' view of an event: its attendees, as a page or as a CSV file."""

from __future__ import annotations

import csv
import io
from typing import Any

from app.core.pagination import PageParams, SortSpec, paginate
from app.models.base import iso_z
from app.models.event import Event
from app.models.interaction import Rsvp, RsvpStatus
from app.models.user import User
from app.services.capabilities import Action
from app.services.catalogue import Viewer, get_managed
from app.services.events.kind import KIND
from app.utils.csv_safe import neutralise

ATTENDEE_SORT = SortSpec("created", "created_at", 1)


async def attendees(
    who: Viewer, key: str, status: RsvpStatus | None, page: PageParams
) -> tuple[list[tuple[Rsvp, User | None]], str | None, int | None]:
    """The event's RSVPs in the order they came, each with its user (one query for all)."""
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
    return await get_managed(KIND, who, key, Action.item_view_attendees)


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
                neutralise(user.full_name if user else ""),
                neutralise(user.email if user else ""),
                r.status.value,
                r.waitlist_position or "",
                iso_z(r.created_at),
            ]
        )
    return buffer.getvalue(), f"{event.slug}-attendees.csv"
