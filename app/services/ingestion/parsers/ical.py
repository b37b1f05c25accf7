"""iCalendar feeds → events: recurrences expanded (RRULE, RDATE, EXDATE, overridden
instances) over the horizon, time zones honoured across DST changes (recurring-ical-events
over icalendar). One entry per occurrence, keyed by UID and the occurrence's start."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar

from app.services.ingestion.parsers.common import Entry, ParseContext, SourceRefused, aware


def _zone_name(value: Any, fallback: str | None) -> str:
    tz = getattr(value, "tzinfo", None)
    if isinstance(tz, ZoneInfo):
        return tz.key
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    return str(key) if key else (fallback or "UTC")


def parse(body: IO[bytes], context: ParseContext) -> Iterator[Entry]:
    try:
        calendar = Calendar.from_ical(body.read())
    except ValueError as exc:
        raise SourceRefused("ICAL_MALFORMED", f"not an iCalendar file: {exc}") from exc
    start = context.now - timedelta(days=1)
    end = context.now + timedelta(days=context.horizon_days)
    try:
        occurrences = recurring_ical_events.of(calendar).between(start, end)
    except (ValueError, TypeError) as exc:
        raise SourceRefused("ICAL_MALFORMED", f"unreadable recurrence: {exc}") from exc
    for event in occurrences:
        yield _entry(event, context)


def _entry(event: Any, context: ParseContext) -> Entry:
    uid = str(event.get("UID") or "")
    dtstart = event.get("DTSTART")
    if not uid or dtstart is None:
        return Entry(external_id=uid or "unknown", problem="no UID or DTSTART")
    begins = dtstart.dt
    key = f"{uid}@{begins.isoformat()}"
    dtend = event.get("DTEND")
    if dtend is not None:
        ends = dtend.dt
    elif event.get("DURATION") is not None:
        ends = begins + event.get("DURATION").dt
    else:
        ends = begins + (
            timedelta(days=1) if not isinstance(begins, datetime) else timedelta(hours=1)
        )
    zone = context.zone
    location = str(event.get("LOCATION") or "").strip()
    url = str(event.get("URL") or "") or None
    categories: list[str] = []
    for group in (event.get("CATEGORIES") and _as_list(event.get("CATEGORIES"))) or []:
        categories += [str(c) for c in getattr(group, "cats", [group])]
    fields: dict[str, Any] = {
        "title": str(event.get("SUMMARY") or ""),
        "description": str(event.get("DESCRIPTION") or ""),
        "start_at": aware(begins, zone),
        "end_at": aware(ends, zone),
        "timezone": _zone_name(begins, context.timezone),
    }
    if not isinstance(begins, datetime) and isinstance(ends, date):
        fields["end_at"] = aware(ends, zone)  # DTEND of an all-day event is exclusive
    if location:
        fields["venue"] = {"name": location[:200]}
    if url:
        fields["online_url"] = url if not location else None
    return Entry(external_id=key, url=url, fields=fields, categories=categories)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
