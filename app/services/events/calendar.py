"""An event as an iCalendar file (the online link only for those who may see it)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as ICalEvent

from app.models.base import utcnow
from app.models.catalogue import ItemStatus
from app.models.event import Event
from app.services.catalogue import Viewer, get_visible, show_one
from app.services.events.kind import KIND
from app.utils.text import strip_html


async def ical(who: Viewer, key: str, base_url: str) -> tuple[bytes, str]:
    view = await show_one(KIND, who, await get_visible(KIND, who, key))
    return event_ics(view.item, base_url, show_link=view.insider), f"{view.item.slug}.ics"


def event_ics(event: Event, base_url: str, *, show_link: bool) -> bytes:
    """The iCalendar file of an event (the online link only when `show_link`): the `.ics`
    endpoint and the event reminder e-mail's attachment."""
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
    return bytes(cal.to_ical())
