"""iCalendar feeds → events: recurrences expanded (RRULE, RDATE, EXDATE, overridden
instances) over the horizon, time zones honoured across DST changes (recurring-ical-events
over icalendar). One entry per occurrence, keyed by UID and the occurrence's start.

A feed is someone else's file, so expanding it is bounded: a series recurring more often
than daily (or with several times of day), or starting before 1900, is skipped with a
reason (`FREQ=SECONDLY` is 31 million occurrences a year, and the expansion walks from the
series' start); series are expanded one at a time, lazily (the run stops reading at its
entry limit), and the whole expansion gets `ParseContext.budget_seconds`.
"""

from __future__ import annotations

import time
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


FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
TIMES_OF_DAY = ("BYHOUR", "BYMINUTE", "BYSECOND")
EARLIEST_YEAR = 1900


def parse(body: IO[bytes], context: ParseContext) -> Iterator[Entry]:
    try:
        calendar = Calendar.from_ical(body.read())
    except ValueError as exc:
        raise SourceRefused("ICAL_MALFORMED", f"not an iCalendar file: {exc}") from exc
    start = context.now - timedelta(days=1)
    end = context.now + timedelta(days=context.horizon_days)
    deadline = time.monotonic() + context.budget_seconds
    zones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    for uid, parts in _series(calendar):
        problem = _unbounded(parts)
        if problem:
            yield Entry(external_id=uid or "unknown", problem=problem)
            continue
        one = Calendar()
        for name, value in calendar.items():  # X-WR-TIMEZONE and the like
            one[name] = value
        one.subcomponents = [*zones, *parts]
        try:
            found = [_entry(e, context) for e in recurring_ical_events.of(one).between(start, end)]
        except (ValueError, TypeError) as exc:  # one broken series, not the whole file
            found = [Entry(external_id=uid or "unknown", problem=f"unreadable: {exc}"[:300])]
        yield from found
        if time.monotonic() > deadline:
            raise SourceRefused(
                "ICAL_TOO_COMPLEX",
                f"expanding its recurrences took over {context.budget_seconds:g} s",
            )


def _series(calendar: Calendar) -> Iterator[tuple[str, list[Any]]]:
    """Each series' components (a master and its overridden instances share a UID), in the
    order of the file; a component without a UID is a series of its own."""
    series: dict[str, list[Any]] = {}
    for n, component in enumerate(c for c in calendar.subcomponents if c.name == "VEVENT"):
        uid = str(component.get("UID") or "")
        series.setdefault(uid or f"\0{n}", []).append(component)
    for key, parts in series.items():
        yield ("" if key.startswith("\0") else key), parts


def _unbounded(parts: list[Any]) -> str | None:
    """Why expanding this series could take unbounded time or room, or None."""
    for part in parts:
        try:
            begins = part.get("DTSTART")
            year = getattr(begins.dt, "year", EARLIEST_YEAR) if begins is not None else None
        except ValueError:  # icalendar's BrokenCalendarProperty
            return "DTSTART is not a date"
        if year is not None and year < EARLIEST_YEAR:
            return f"DTSTART before {EARLIEST_YEAR}"
        rules = part.get("RRULE")
        for rule in rules if isinstance(rules, list) else [rules] if rules else []:
            frequency = str((rule.get("FREQ") or [""])[0]).upper()
            if frequency not in FREQUENCIES:
                return f"recurs more often than daily (FREQ={frequency or '?'})"
            if any(len(rule.get(name) or []) > 1 for name in TIMES_OF_DAY):
                return "recurs at several times of day"
    return None


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
