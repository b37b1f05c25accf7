"""Duplicates: suggested in tiers across sources and with hand-entered items, never merged
silently; merge keeps one (the other's id and slug lead to it, saves and RSVPs move) and
is safe to repeat; dismiss is final."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime

import pytest
from beanie import PydanticObjectId

from app import email
from app.models.reminder import Reminder
from app.models.saved_search import SavedSearchMatch
from app.tests.errors import assert_error
from app.tests.factories import make_event, make_opportunity, make_org
from app.tests.ingest import server as fixture_server
from app.tests.ingest.helpers import API, OVERRIDES, items, make_source, run_now

GRANTS = {"kind": "grants_gov", "defaults": {"type": "grant", "timezone": "America/New_York"}}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(OVERRIDES)


@pytest.fixture
def feeds() -> Iterator[fixture_server.FixtureServer]:
    with fixture_server.running() as state:
        yield state


async def _duplicates(client, staff, **params) -> list[dict]:
    response = await client.get(f"{API}/admin/duplicates", headers=staff.headers, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_same_external_id_from_two_sources(client, staff, feeds) -> None:
    org = await make_org(client, staff)
    first = await make_source(
        client, staff, org["id"], feeds.put_fixture("grants-extract.xml", "/a.xml"), **GRANTS
    )
    second = await make_source(
        client, staff, org["id"], feeds.put_fixture("grants-extract.xml", "/b.xml"), **GRANTS
    )
    assert (await run_now(client, staff, first["id"]))["counts"]["duplicates"] == 0
    run = await run_now(client, staff, second["id"])
    assert run["counts"]["created"] == 2
    assert run["counts"]["duplicates"] == 2
    found = await _duplicates(client, staff)
    assert {d["tier"] for d in found} == {"external_id"}
    assert {d["score"] for d in found} == {1.0}
    assert all(len(d["items"]) == 2 and d["state"] == "open" for d in found)
    assert "358104" in " ".join(d["reason"] for d in found)


async def test_merge_keeps_one_and_moves_saves(client, staff, partner, make_user, feeds) -> None:
    org = await make_org(client, partner)
    hand = await make_opportunity(
        client, partner, org["id"], title="USDA SBIR Phase I (agriculture)", publish_as=staff,
        application_url="https://nifa.usda.gov/grants/programs/sbir-sttr/?utm_source=newsletter",
    )  # fmt: skip
    source = await make_source(
        client, staff, org["id"], feeds.put_fixture("grants-extract.xml"), **GRANTS
    )
    run = await run_now(client, staff, source["id"])
    assert run["counts"]["duplicates"] == 1
    [suggestion] = await _duplicates(client, staff, tier="url")
    assert suggestion["score"] == 0.95
    assert "nifa.usda.gov/grants/programs/sbir-sttr" in suggestion["reason"]
    ingested = next(i for i in suggestion["items"] if i["id"] != hand["id"])
    assert ingested["provenance"]["external_id"] == "358104"
    approved = await client.post(
        f"{API}/opportunities/{ingested['id']}/approve", headers=staff.headers
    )
    assert approved.status_code == 200

    alice, bob = await make_user(), await make_user()
    for who, targets in ((alice, [ingested["id"]]), (bob, [ingested["id"], hand["id"]])):
        for target in targets:
            saved = await client.put(f"{API}/opportunities/{target}/save", headers=who.headers)
            assert saved.status_code == 200, saved.text

    url = f"{API}/admin/duplicates/{suggestion['id']}/merge"
    assert_error(
        await client.post(url, headers=staff.headers, json={"keep": "64b7f0c2a1b2c3d4e5f60718"}),
        422,
        "INVALID_KEEP",
    )
    assert_error(
        await client.post(url, headers=partner.headers, json={"keep": hand["id"]}),
        403,
        "INSUFFICIENT_ROLE",
    )
    merged = await client.post(url, headers=staff.headers, json={"keep": hand["id"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["state"] == "merged"
    assert merged.json()["kept_id"] == hand["id"]

    # the other's id and slug lead to the kept item
    for key in (ingested["id"], ingested["slug"]):
        read = await client.get(f"{API}/opportunities/{key}")
        assert read.status_code == 200
        assert read.json()["id"] == hand["id"]
    kept = (await client.get(f"{API}/opportunities/{hand['id']}", headers=staff.headers)).json()
    assert kept["saves"] == 2  # bob's was there; alice's moved; bob is counted once
    mine = (await client.get(f"{API}/me/opportunities", headers=alice.headers)).json()["items"]
    assert [row["opportunity"]["id"] for row in mine] == [hand["id"]]

    # repeating the merge changes nothing; other decisions are refused
    again = await client.post(url, headers=staff.headers, json={"keep": hand["id"]})
    assert again.status_code == 200
    assert again.json()["state"] == "merged"
    kept = (await client.get(f"{API}/opportunities/{hand['id']}", headers=staff.headers)).json()
    assert kept["saves"] == 2
    assert_error(
        await client.post(url, headers=staff.headers, json={"keep": ingested["id"]}),
        409,
        "DUPLICATE_MERGE_CONFLICT",
    )
    assert_error(
        await client.post(
            f"{API}/admin/duplicates/{suggestion['id']}/dismiss", headers=staff.headers
        ),
        409,
        "DUPLICATE_ALREADY_MERGED",
    )
    assert await _duplicates(client, staff) == []
    assert len(await _duplicates(client, staff, state="merged")) == 1

    # the source now updates the kept item (as a revision: it is published)
    feeds.put(
        "/grants-extract.xml",
        feeds.files["/grants-extract.xml"].replace(
            b"<AwardCeiling>181500", b"<AwardCeiling>200000"
        ),
    )
    rerun = await run_now(client, staff, source["id"])
    assert any(e["item_id"] == hand["id"] and e["outcome"] == "revised" for e in rerun["entries"])


async def test_merge_moves_rsvps(client, staff, partner, make_user, feeds) -> None:
    org = await make_org(client, partner, name="Founders Network Kenya")
    hand = await make_event(
        client, partner, org["id"], title="Pitch Night - Agritech edition", publish_as=staff,
        start_at="2099-02-12T18:00:00+03:00", end_at="2099-02-12T21:00:00+03:00", capacity=1,
    )  # fmt: skip
    source = await make_source(
        client, staff, org["id"], feeds.put_fixture("events-page.html"), kind="jsonld",
        target="event", defaults={"type": "networking", "timezone": "Africa/Nairobi"},
    )  # fmt: skip
    assert (await run_now(client, staff, source["id"]))["counts"]["duplicates"] == 1
    [suggestion] = await _duplicates(client, staff, target="event")
    assert suggestion["tier"] == "fuzzy"
    assert suggestion["score"] >= 0.85
    ingested = next(i for i in suggestion["items"] if i["id"] != hand["id"])
    await client.post(f"{API}/events/{ingested['id']}/approve", headers=staff.headers)
    early, late = await make_user(), await make_user()
    taken = await client.put(
        f"{API}/events/{hand['id']}/rsvp", headers=early.headers, json={"status": "going"}
    )
    assert taken.json()["status"] == "going"
    moved = await client.put(
        f"{API}/events/{ingested['id']}/rsvp", headers=late.headers, json={"status": "going"}
    )
    assert moved.json()["status"] == "going"

    merged = await client.post(
        f"{API}/admin/duplicates/{suggestion['id']}/merge",
        headers=staff.headers,
        json={"keep": hand["id"]},
    )
    assert merged.status_code == 200, merged.text
    kept = (await client.get(f"{API}/events/{hand['id']}", headers=staff.headers)).json()
    assert (kept["going_count"], kept["waitlist_count"]) == (1, 1)  # one seat: the mover waits
    mine = (await client.get(f"{API}/me/events", headers=late.headers)).json()["items"]
    assert [(r["event"]["id"], r["rsvp"]["status"]) for r in mine] == [(hand["id"], "waitlisted")]
    gone = (await client.get(f"{API}/events/{ingested['id']}", headers=staff.headers)).json()
    assert gone["id"] == hand["id"]


async def test_dismissed_pairs_stay_dismissed(client, staff, partner, feeds) -> None:
    org = await make_org(client, partner)
    await make_opportunity(
        client, partner, org["id"], title="Another name entirely",
        application_url="https://www.nifa.usda.gov/grants/programs/sbir-sttr#apply",
    )  # fmt: skip
    source = await make_source(
        client, staff, org["id"], feeds.put_fixture("grants-extract.xml"), **GRANTS
    )
    await run_now(client, staff, source["id"])
    [suggestion] = await _duplicates(client, staff)
    url = f"{API}/admin/duplicates/{suggestion['id']}/dismiss"
    dismissed = await client.post(url, headers=staff.headers)
    assert dismissed.status_code == 200
    assert dismissed.json()["state"] == "dismissed"
    assert (await client.post(url, headers=staff.headers)).json()["state"] == "dismissed"
    assert_error(
        await client.post(
            f"{API}/admin/duplicates/{suggestion['id']}/merge", headers=staff.headers
        ),
        409,
        "DUPLICATE_DISMISSED",
    )
    feeds.put(
        "/grants-extract.xml", feeds.files["/grants-extract.xml"].replace(b"Phase I", b"Phase 1")
    )
    rerun = await run_now(client, staff, source["id"])
    assert rerun["counts"]["updated"] == 1
    assert rerun["counts"]["duplicates"] == 0
    assert await _duplicates(client, staff) == []
    assert_error(
        await client.post(f"{API}/admin/duplicates/nope/dismiss", headers=staff.headers),
        404,
        "DUPLICATE_NOT_FOUND",
    )
    assert len(await items(client, staff, "opportunities")) == 2


TEXT = (
    "The programme supports small food processors in rural districts with equipment grants, "
    "technical assistance on hygiene certification, bookkeeping training and introductions to "
    "regional buyers, so that cooperatives can sell packaged products to supermarkets across "
    "the region within two years of joining the cohort."
)
FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Calls</title>
<item><title>Rural food processors call</title><guid>text-1</guid>
<link>https://elsewhere.example.org/a</link><description>{text}</description></item>
</channel></rss>"""


async def test_near_identical_text(client, staff, partner, feeds) -> None:
    org = await make_org(client, partner)
    hand = await make_opportunity(
        client, partner, org["id"], title="Cohort for food businesses",
        description=f"<p>{TEXT.replace('two years', '24 months')}</p>", deadline="2099-02-02T00:00:00Z",
    )  # fmt: skip
    source = await make_source(
        client, staff, org["id"], feeds.put("/text.rss", FEED.format(text=TEXT))
    )
    assert (await run_now(client, staff, source["id"]))["counts"]["duplicates"] == 1
    [suggestion] = await _duplicates(client, staff)
    assert suggestion["tier"] == "text"
    assert hand["id"] in suggestion["item_ids"]
    assert 0.75 <= suggestion["score"] < 1
    assert "alike" in suggestion["reason"]


async def test_concurrent_merges_land_once(client, staff, partner, make_user, feeds) -> None:
    org = await make_org(client, partner)
    hand = await make_opportunity(
        client, partner, org["id"], title="SBIR (hand entered)", publish_as=staff,
        application_url="https://www.nifa.usda.gov/grants/programs/sbir-sttr",
    )  # fmt: skip
    source = await make_source(
        client, staff, org["id"], feeds.put_fixture("grants-extract.xml"), **GRANTS
    )
    await run_now(client, staff, source["id"])
    [suggestion] = await _duplicates(client, staff)
    ingested = next(i for i in suggestion["item_ids"] if i != hand["id"])
    await client.post(f"{API}/opportunities/{ingested}/approve", headers=staff.headers)
    savers = [await make_user() for _ in range(3)]
    for who in savers:
        await client.put(f"{API}/opportunities/{ingested}/save", headers=who.headers)
    url = f"{API}/admin/duplicates/{suggestion['id']}/merge"
    answers = await asyncio.gather(
        *[client.post(url, headers=staff.headers, json={"keep": hand["id"]}) for _ in range(3)],
        client.post(url, headers=staff.headers, json={"keep": ingested}),
    )
    # whichever choice claimed the suggestion first wins; the other is refused, never both
    landed = {a.json()["kept_id"] for a in answers if a.status_code == 200}
    refused = [a for a in answers if a.status_code != 200]
    assert len(landed) == 1, [a.text for a in answers]
    assert refused
    assert all(a.json()["error"]["code"] == "DUPLICATE_MERGE_CONFLICT" for a in refused)
    [winner] = landed
    kept = (await client.get(f"{API}/opportunities/{winner}", headers=staff.headers)).json()
    assert kept["saves"] == 3  # moved once, however many merges ran


async def test_merge_moves_what_users_hold_on_the_merged_item(
    client, staff, partner, make_user, feeds
) -> None:
    """Dismissals, saved-search matches, reminders and notifications about the merged item
    were left on it (archived: the matches list hid them, the reminders never fired, a
    dismissed keeper came back in alerts); they now follow it to the kept item, once."""
    org = await make_org(client, partner)
    hand = await make_opportunity(
        client, partner, org["id"], title="USDA SBIR Phase I (agriculture)", publish_as=staff,
        application_url="https://nifa.usda.gov/grants/programs/sbir-sttr/",
        deadline="2098-06-01T12:00:00Z",
    )  # fmt: skip
    alice, bob, carol = await make_user(), await make_user(), await make_user()
    search = await client.post(
        f"{API}/me/saved-searches",
        headers=alice.headers,
        json={"name": "Grants", "kind": "opportunity", "query": {"type": "grant"}},
    )
    assert search.status_code == 201, search.text
    source = await make_source(
        client, staff, org["id"], feeds.put_fixture("grants-extract.xml"), **GRANTS
    )
    await run_now(client, staff, source["id"])
    [suggestion] = await _duplicates(client, staff, tier="url")
    ingested = next(i for i in suggestion["items"] if i["id"] != hand["id"])
    approve = await client.post(
        f"{API}/opportunities/{ingested['id']}/approve", headers=staff.headers
    )
    assert approve.status_code == 200, approve.text
    await email.drain()  # percolation: alice's search matches the ingested item
    saved = await client.put(f"{API}/opportunities/{ingested['id']}/save", headers=alice.headers)
    assert saved.status_code == 200
    for who, targets in ((bob, [ingested["id"], hand["id"]]), (carol, [ingested["id"]])):
        for target in targets:
            put = await client.put(
                f"{API}/me/dismissed/opportunity/{target}",
                headers=who.headers,
                json={"reason": "not_relevant"},
            )
            assert put.status_code in (200, 201), put.text
    [note] = (await client.get(f"{API}/notifications", headers=alice.headers)).json()["items"]
    assert note["subject"]["id"] == ingested["id"]
    merge = f"{API}/admin/duplicates/{suggestion['id']}/merge"

    for _ in range(2):  # a repeated merge finds everything moved already
        merged = await client.post(merge, headers=staff.headers, json={"keep": hand["id"]})
        assert merged.status_code == 200, merged.text
        for who in (bob, carol):
            rows = (await client.get(f"{API}/me/dismissed", headers=who.headers)).json()["items"]
            assert [r["item_id"] for r in rows] == [hand["id"]]
        matches = await client.get(
            f"{API}/me/saved-searches/{search.json()['id']}/matches", headers=alice.headers
        )
        assert matches.status_code == 200, matches.text
        if not _:  # (the second look has nothing new)
            assert [m["item_id"] for m in matches.json()["items"]] == [hand["id"]]
        assert [str(m.item_id) for m in await SavedSearchMatch.find().to_list()] == [hand["id"]]
        notes = (await client.get(f"{API}/notifications", headers=alice.headers)).json()["items"]
        assert [n["subject"]["id"] for n in notes] == [hand["id"]]
        reminders = await Reminder.find({"user_id": PydanticObjectId(alice.id)}).to_list()
        assert {str(r.item_id) for r in reminders} == {hand["id"]}
        assert {r.target_at.replace(tzinfo=None) for r in reminders} == {datetime(2098, 6, 1, 12)}
        assert await Reminder.find({"item_id": PydanticObjectId(ingested["id"])}).count() == 0
