"""An iCalendar feed with a weekly RRULE across the spring DST change, an EXDATE, an
all-day event, a floating time and a past event: one event per occurrence in the horizon,
times right on both sides of the change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from app.tests.factories import make_org
from app.tests.ingest import server as fixture_server
from app.tests.ingest.helpers import OVERRIDES, items, make_source, run_now

VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/London
BEGIN:DAYLIGHT
TZOFFSETFROM:+0000
TZOFFSETTO:+0100
TZNAME:BST
DTSTART:19700329T010000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0100
TZOFFSETTO:+0000
TZNAME:GMT
DTSTART:19701025T020000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""


def last_sunday_of_march(year: int) -> date:
    day = date(year, 3, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def calendar(year: int) -> tuple[str, date]:
    change = last_sunday_of_march(year)
    first = change - timedelta(days=11)  # a Wednesday, two weeks before the change
    excluded = first + timedelta(days=21)
    stamp = "20261101T120000Z"
    text = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Makers Space//Events 1.0//EN
CALSCALE:GREGORIAN
X-WR-CALNAME:Makers Space
{VTIMEZONE}
BEGIN:VEVENT
UID:founders-breakfast@makers.example
DTSTAMP:{stamp}
DTSTART;TZID=Europe/London:{first:%Y%m%d}T180000
DTEND;TZID=Europe/London:{first:%Y%m%d}T200000
RRULE:FREQ=WEEKLY;COUNT=5
EXDATE;TZID=Europe/London:{excluded:%Y%m%d}T180000
SUMMARY:Founders' evening
DESCRIPTION:Weekly meet-up for founders.\\nBring a friend.
LOCATION:Makers Space\\, 1 High Street\\, London
CATEGORIES:Networking,Community
END:VEVENT
BEGIN:VEVENT
UID:trade-fair@makers.example
DTSTAMP:{stamp}
DTSTART;VALUE=DATE:{year}0610
DTEND;VALUE=DATE:{year}0612
SUMMARY:Export Trade Fair
URL:https://fair.example.org/
END:VEVENT
BEGIN:VEVENT
UID:floating@makers.example
DTSTAMP:{stamp}
DTSTART:{year}0701T090000
DTEND:{year}0701T110000
SUMMARY:Bookkeeping basics
LOCATION:Room 2
END:VEVENT
BEGIN:VEVENT
UID:long-gone@makers.example
DTSTAMP:{stamp}
DTSTART:20200101T090000Z
DTEND:20200101T100000Z
SUMMARY:Long past
END:VEVENT
END:VCALENDAR
"""
    return text.replace("\n", "\r\n"), first


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(OVERRIDES)


@pytest.fixture
def feeds() -> Iterator[fixture_server.FixtureServer]:
    with fixture_server.running() as state:
        yield state


async def test_recurrences_exceptions_and_dst(client, staff, feeds) -> None:
    year = datetime.now(UTC).year + 1
    text, first = calendar(year)
    org = await make_org(client, staff)
    source = await make_source(
        client, staff, org["id"], feeds.put("/events.ics", text), kind="ical", target="event",
        defaults={"type": "networking", "timezone": "Europe/Berlin", "country": "GB"},
    )  # fmt: skip
    run = await run_now(client, staff, source["id"])
    assert run["status"] == "succeeded", run
    assert run["counts"]["created"] == 6, run  # 4 weekly (5 minus the EXDATE), fair, floating

    events = await items(client, staff, "events", sort="start")
    weekly = [e for e in events if e["title"] == "Founders' evening"]
    starts = [e["start_at"] for e in weekly]
    # 18:00 in London: GMT (UTC+0) before the last Sunday of March, BST (UTC+1) after
    assert starts == [
        f"{first:%Y-%m-%d}T18:00:00Z",
        f"{first + timedelta(days=7):%Y-%m-%d}T18:00:00Z",
        f"{first + timedelta(days=14):%Y-%m-%d}T17:00:00Z",
        f"{first + timedelta(days=28):%Y-%m-%d}T17:00:00Z",
    ]
    evening = weekly[0]
    assert evening["timezone"] == "Europe/London"
    assert evening["format"] == "in_person"
    assert evening["venue"]["name"] == "Makers Space, 1 High Street, London"
    assert evening["venue"]["country"] == "GB"
    assert evening["end_at"] == f"{first:%Y-%m-%d}T20:00:00Z"
    assert evening["tags"] == ["networking"]  # 'Community' is reported, not invented
    assert any("unmapped category 'Community'" in (e["reason"] or "") for e in run["entries"])

    fair = next(e for e in events if e["title"] == "Export Trade Fair")
    # all-day in the source's zone (Berlin, CEST in June), to the exclusive end date
    assert fair["start_at"] == f"{year}-06-09T22:00:00Z"
    assert fair["end_at"] == f"{year}-06-11T22:00:00Z"
    assert fair["format"] == "online"
    assert fair["online_url"] == "https://fair.example.org/"
    floating = next(e for e in events if e["title"] == "Bookkeeping basics")
    assert floating["start_at"] == f"{year}-07-01T07:00:00Z"
    assert floating["timezone"] == "Europe/Berlin"
    assert not [e for e in events if e["title"] == "Long past"]

    # re-running changes nothing (same ETag), and a changed file keeps the same keys
    assert (await run_now(client, staff, source["id"]))["not_modified"] is True
    feeds.put("/events.ics", text.replace("Bring a friend.", "Bring two friends."))
    again = await run_now(client, staff, source["id"])
    assert (
        again["counts"]["created"],
        again["counts"]["updated"],
        again["counts"]["unchanged"],
    ) == (0, 4, 2)
