"""Events: the catalogue kind (`kind.py`) and its own use cases — RSVPs with capacity and
waitlist (`rsvps.py`), attendees and their CSV (`attendees.py`), iCalendar
(`calendar.py`). Endpoints call `events` only."""

from __future__ import annotations

from app.models.event import Event
from app.models.interaction import Rsvp, RsvpStatus
from app.models.user import User
from app.schemas.event import AttendeeQuery
from app.schemas.query import PageQuery
from app.services.catalogue import KindService, Rows, Viewer
from app.services.events import attendees, calendar, rsvps
from app.services.events.kind import KIND

__all__ = ["KIND", "EventService", "events"]


class EventService(KindService[Event]):
    async def rsvp(self, who: Viewer, key: str, status: RsvpStatus) -> Rsvp:
        return await rsvps.rsvp(who, key, status)

    async def cancel_rsvp(self, who: Viewer, key: str) -> None:
        await rsvps.cancel_rsvp(who, key)

    async def attendees(
        self, who: Viewer, key: str, query: AttendeeQuery
    ) -> tuple[list[tuple[Rsvp, User | None]], str | None, int | None]:
        return await attendees.attendees(who, key, query.status, query.page)

    async def attendees_csv(self, who: Viewer, key: str) -> tuple[str, str]:
        """The CSV text and its file name."""
        return await attendees.attendees_csv(who, key)

    async def ical(self, who: Viewer, key: str, base_url: str) -> tuple[bytes, str]:
        """The .ics bytes and its file name."""
        return await calendar.ical(who, key, base_url)

    async def mine(self, who: Viewer, query: PageQuery) -> Rows[Rsvp, Event]:
        return await rsvps.mine(who, query.page)


events = EventService(KIND)
