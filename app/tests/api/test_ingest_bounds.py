"""What a hostile source's content can make a run do is bounded: iCalendar recurrences that
would expand without end, JSON-LD nested past any reason. Each is a clear skip or a failed
run with a stable code, and the rest of the source still arrives."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app.services.ingestion.parsers import ical
from app.services.ingestion.parsers.common import ParseContext, SourceRefused
from app.tests.factories import make_org
from app.tests.ingest import server as fixture_server
from app.tests.ingest.helpers import OVERRIDES, items, make_source, run_now


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # two days of horizon and 50 entries a run: an unbounded series would show at once
    return {**OVERRIDES, "ingest_ical_horizon_days": 2, "ingest_max_entries": 50}


@pytest.fixture
def feeds() -> Iterator[fixture_server.FixtureServer]:
    with fixture_server.running() as state:
        yield state


def vcalendar(*events: str) -> str:
    body = "".join(events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n{body}END:VCALENDAR\r\n"


def vevent(uid: str, start: datetime, rule: str | None = None, summary: str = "") -> str:
    recurrence = f"RRULE:{rule}\r\n" if rule else ""
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
        f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}\r\n{recurrence}"
        f"SUMMARY:{summary or uid}\r\nLOCATION:Makers Space\r\nEND:VEVENT\r\n"
    )


async def test_series_recurring_more_often_than_daily_are_skipped(client, staff, feeds) -> None:
    """`FREQ=SECONDLY` from years back would walk hundreds of millions of instants before
    the first one in the horizon (the worker hung); such series are skipped with a reason,
    and a daily series and a single event in the same file still arrive."""
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    text = vcalendar(
        vevent("flood@spam.example", datetime(2020, 1, 1, tzinfo=UTC), "FREQ=SECONDLY"),
        vevent("minutes@spam.example", soon, "FREQ=MINUTELY"),
        vevent("times@spam.example", soon, "FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=0,30"),
        vevent("ancient@spam.example", datetime(1800, 1, 1, tzinfo=UTC), "FREQ=DAILY"),
        vevent("broken@spam.example", soon).replace("DTSTART:", "DTSTART:not-a-date"),
        vevent("standup@makers.example", soon, "FREQ=DAILY;COUNT=2", "Daily stand-up"),
        vevent("fair@makers.example", soon, summary="Trade fair"),
    )
    org = await make_org(client, staff)
    source = await make_source(
        client, staff, org["id"], feeds.put("/events.ics", text), kind="ical", target="event",
        defaults={"type": "networking"},
    )  # fmt: skip
    run = await run_now(client, staff, source["id"])
    assert run["status"] == "succeeded", run
    skipped = {e["external_id"]: e["reason"] for e in run["entries"] if e["outcome"] == "skipped"}
    assert skipped == {
        "flood@spam.example": "recurs more often than daily (FREQ=SECONDLY)",
        "minutes@spam.example": "recurs more often than daily (FREQ=MINUTELY)",
        "times@spam.example": "recurs at several times of day",
        "ancient@spam.example": "DTSTART before 1900",
        "broken@spam.example": "DTSTART is not a date",
    }
    titles = sorted(e["title"] for e in await items(client, staff, "events"))
    assert titles == ["Daily stand-up", "Daily stand-up", "Trade fair"]


def test_expanding_a_calendar_has_a_time_budget() -> None:
    """Allowed series each cost little, but a file can hold many: the expansion stops when
    its budget is spent (a failed run with a stable code), between two series."""
    start = datetime(1990, 1, 1, tzinfo=UTC)
    text = vcalendar(*(vevent(f"s{n}@x.example", start, "FREQ=DAILY") for n in range(3)))
    context = ParseContext(base_url="https://x.example/", timezone=None, budget_seconds=0)
    entries = ical.parse(io.BytesIO(text.encode()), context)
    with pytest.raises(SourceRefused) as refused:
        list(entries)
    assert refused.value.code == "ICAL_TOO_COMPLEX"


async def test_jsonld_nested_past_reason_is_one_skipped_block(client, staff, feeds) -> None:
    """A `<script type="application/ld+json">` nested 100 000 deep made the JSON decoder
    raise RecursionError and the run crash (INTERNAL_ERROR); `@graph`s nested a few hundred
    deep overflowed the node walk. Each such block is now a skipped entry, and the page's
    other blocks still arrive."""
    soon = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    event = (
        '{"@context": "https://schema.org", "@type": "Event", "name": "Founders breakfast",'
        f' "startDate": "{soon:%Y-%m-%dT%H:%M:%SZ}", "url": "https://makers.example/b",'
        ' "eventAttendanceMode": "https://schema.org/OnlineEventAttendanceMode",'
        ' "location": {"@type": "VirtualLocation", "url": "https://meet.makers.example/b"}}'
    )
    graphs = '{"@graph": ' * 900 + "{}" + "}" * 900
    blocks = ["[" * 100_000 + "]" * 100_000, graphs, event]
    scripts = "".join(f'<script type="application/ld+json">{b}</script>' for b in blocks)
    org = await make_org(client, staff)
    source = await make_source(
        client, staff, org["id"], feeds.put("/page.html", f"<html><head>{scripts}</head></html>"),
        kind="jsonld", target="event", defaults={"type": "networking"},
    )  # fmt: skip
    run = await run_now(client, staff, source["id"])
    assert run["status"] == "succeeded", run
    skipped = [e["reason"] for e in run["entries"] if e["outcome"] == "skipped"]
    assert skipped == ["JSON-LD nested too deep"]
    assert [e["title"] for e in await items(client, staff, "events")] == ["Founders breakfast"]
