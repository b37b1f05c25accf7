"""Sources over HTTP: set up, run against a local server of realistic feeds, and what the
catalogue gets — pending review, provenance, sanitised, upserted by external id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from beanie import PydanticObjectId

from app import email
from app.models.base import utcnow
from app.models.ingestion import Source
from app.services.ingestion import runs
from app.tasks.ingestion import sweep_sources
from app.tests.errors import assert_error
from app.tests.factories import make_opportunity, make_org
from app.tests.ingest import server as fixture_server
from app.tests.ingest.helpers import API, OVERRIDES, items, make_source, run_now


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(OVERRIDES)


@pytest.fixture
def feeds() -> Iterator[fixture_server.FixtureServer]:
    with fixture_server.running() as state:
        yield state


async def test_source_setup_is_validated_and_staff_only(client, staff, partner, feeds) -> None:
    org = await make_org(client, staff)
    url = feeds.put_fixture("grants-feed.rss")
    body = {
        "name": "x",
        "kind": "ical",
        "target": "opportunity",
        "url": url,
        "organisation_id": org["id"],
    }
    assert_error(
        await client.post(f"{API}/admin/sources", headers=staff.headers, json=body),
        422,
        "VALIDATION_ERROR",
    )
    body |= {"kind": "feed", "defaults": {"tags": ["no-such-tag"]}}
    assert_error(
        await client.post(f"{API}/admin/sources", headers=staff.headers, json=body),
        422,
        "UNKNOWN_REFERENCE",
    )
    body |= {"defaults": {}, "organisation_id": "64b7f0c2a1b2c3d4e5f60718"}
    assert_error(
        await client.post(f"{API}/admin/sources", headers=staff.headers, json=body),
        404,
        "ORGANISATION_NOT_FOUND",
    )
    body |= {"organisation_id": org["id"], "url": "ftp://example.org/feed"}
    assert_error(
        await client.post(f"{API}/admin/sources", headers=staff.headers, json=body),
        422,
        "VALIDATION_ERROR",
    )
    body |= {"url": url}
    assert_error(
        await client.post(f"{API}/admin/sources", headers=partner.headers, json=body),
        403,
        "INSUFFICIENT_ROLE",
    )
    created = await client.post(f"{API}/admin/sources", headers=staff.headers, json=body)
    assert created.status_code == 201, created.text
    source = created.json()
    assert created.headers["location"] == f"/api/v1/admin/sources/{source['id']}"
    assert source["next_run_at"] is not None
    assert source["last_run_id"] is None
    listed = await client.get(f"{API}/admin/sources", headers=staff.headers)
    assert [s["id"] for s in listed.json()["items"]] == [source["id"]]
    paused = await client.patch(
        f"{API}/admin/sources/{source['id']}", headers=staff.headers, json={"enabled": False}
    )
    assert paused.json()["enabled"] is False
    assert paused.json()["next_run_at"] is None
    assert_error(
        await client.post(f"{API}/admin/sources/nope/run", headers=staff.headers),
        404,
        "SOURCE_NOT_FOUND",
    )


async def test_rss_run_creates_pending_items_with_provenance(client, staff, feeds) -> None:
    org = await make_org(client, staff)
    url = feeds.put_fixture("grants-feed.rss")
    source = await make_source(client, staff, org["id"], url)
    run = await run_now(client, staff, source["id"])
    assert run["status"] == "succeeded", run
    counts = run["counts"]
    assert (counts["fetched"], counts["created"], counts["skipped"], counts["errors"]) == (
        3,
        3,
        0,
        0,
    )
    assert run["duration_ms"] is not None
    assert run["started_at"]
    assert run["finished_at"]
    reasons = {e["external_id"]: e["reason"] for e in run["entries"]}
    assert "unmapped category 'Agritech Weekly'" in reasons["https://fund.example.org/?p=4811"]

    found = {i["title"]: i for i in await items(client, staff, "opportunities")}
    assert set(found) == {
        "Green Agri-Processing Grant 2027",
        "Youth Innovation Prize",  # the script in the title is gone, the text stays
        "Climate Resilience Accelerator – Cohort 4",
    }
    grant = found["Green Agri-Processing Grant 2027"]
    assert grant["status"] == "pending_review"
    assert grant["tags"] == ["funding"]
    assert grant["type"] == "grant"
    assert "<script" not in grant["description"]
    assert "onclick" not in grant["description"]
    assert "<strong>USD 25,000</strong>" in grant["description"]
    prize = found["Youth Innovation Prize"]
    assert "onerror" not in prize["description"]
    assert "<script" not in prize["title"]

    # provenance and the moderation queue
    queue = await client.get(
        f"{API}/admin/moderation", headers=staff.headers, params={"moderation": "review"}
    )
    entries = {e["id"]: e for e in queue.json()["items"]}
    provenance = entries[grant["id"]]["provenance"]
    assert provenance["origin"] == f"source:{source['id']}"
    assert provenance["external_id"] == "https://fund.example.org/?p=4811"
    assert provenance["url"].startswith("https://fund.example.org/calls/green-agri")
    assert len(provenance["content_hash"]) == 64
    assert provenance["fetched_at"]

    # polite: our User-Agent, robots.txt read first
    feed_requests = feeds.requests_to("/grants-feed.rss")
    assert feed_requests[0].headers["user-agent"].startswith("RunWeiIngest/")
    assert feeds.requests_to("/robots.txt")


async def test_rerun_is_conditional_then_upserts_by_external_id(client, staff, feeds) -> None:
    org = await make_org(client, staff)
    url = feeds.put_fixture("grants-feed.rss")
    source = await make_source(client, staff, org["id"], url)
    await run_now(client, staff, source["id"])
    again = await run_now(client, staff, source["id"])
    assert again["status"] == "succeeded"
    assert again["not_modified"] is True
    assert feeds.requests_to("/grants-feed.rss")[-1].headers["if-none-match"]

    # staff approve one item; then the source changes it and drops another
    grant = next(
        i for i in await items(client, staff, "opportunities") if i["title"].startswith("Green")
    )
    approved = await client.post(
        f"{API}/opportunities/{grant['id']}/approve", headers=staff.headers
    )
    assert approved.status_code == 200, approved.text
    text = feeds.files["/grants-feed.rss"].decode()
    text = text.replace(
        "Green Agri-Processing Grant 2027", "Green Agri-Processing Grant 2027 (extended)"
    )
    start = text.index("<item>", text.index("Youth Innovation") - 200)
    text = text[: text.rindex("<item>", 0, start + 7)] + text[text.index("</item>", start) + 7 :]
    feeds.put("/grants-feed.rss", text)
    changed = await run_now(client, staff, source["id"])
    counts = changed["counts"]
    assert (counts["fetched"], counts["created"], counts["updated"], counts["unchanged"]) == (
        2,
        0,
        1,
        1,
    )
    assert counts["missing"] == 1
    assert changed["missing"] == ["https://fund.example.org/?p=4790"]
    revised = next(e for e in changed["entries"] if e["outcome"] == "revised")
    assert revised["item_id"] == grant["id"]

    # what staff approved stays live; the change waits as a pending revision
    live = (await client.get(f"{API}/opportunities/{grant['id']}", headers=staff.headers)).json()
    assert live["title"] == "Green Agri-Processing Grant 2027"
    assert live["pending_revision"]["changes"]["title"] == {
        "before": "Green Agri-Processing Grant 2027",
        "after": "Green Agri-Processing Grant 2027 (extended)",
    }
    decided = await client.post(
        f"{API}/opportunities/{grant['id']}/revision/approve", headers=staff.headers
    )
    assert decided.status_code == 200
    assert decided.json()["title"].endswith("(extended)")
    # the prize that left the source is reported, not deleted
    assert any(
        i["title"] == "Youth Innovation Prize" for i in await items(client, staff, "opportunities")
    )
    runs = await client.get(f"{API}/admin/sources/{source['id']}/runs", headers=staff.headers)
    assert len(runs.json()["items"]) == 3


async def test_a_pending_item_takes_source_changes_live(client, staff, feeds) -> None:
    org = await make_org(client, staff)
    url = feeds.put("/one.atom", (fixture_server.FIXTURES / "events.atom").read_bytes())
    source = await make_source(client, staff, org["id"], url)
    first = await run_now(client, staff, source["id"])
    assert first["counts"]["created"] == 2
    titles = {i["title"] for i in await items(client, staff, "opportunities")}
    assert titles == {"Seed Fund for Digital Health Startups", "Export Readiness Programme"}
    feeds.put("/one.atom", feeds.files["/one.atom"].replace(b"Six months", b"Nine months"))
    second = await run_now(client, staff, source["id"])
    assert second["counts"]["updated"] == 1
    assert second["counts"]["unchanged"] == 1
    export = next(
        i for i in await items(client, staff, "opportunities") if i["title"].startswith("Export")
    )
    assert "Nine months" in export["description"]
    assert export["pending_revision"] is None


async def test_grants_gov_extract_is_streamed_and_mapped(client, staff, feeds) -> None:
    org = await make_org(client, staff)
    url = feeds.put_fixture("grants-extract.xml")
    source = await make_source(
        client,
        staff,
        org["id"],
        url,
        kind="grants_gov",
        defaults={
            "type": "grant",
            "timezone": "America/New_York",
            "country": "US",
            "category_map": {"AG": "funding"},
        },
    )
    run = await run_now(client, staff, source["id"])
    assert run["status"] == "succeeded", run
    assert (run["counts"]["fetched"], run["counts"]["created"], run["counts"]["skipped"]) == (
        3,
        2,
        1,
    )
    skipped = next(e for e in run["entries"] if e["outcome"] == "skipped")
    assert skipped["external_id"] == "360001"
    assert "MMDDYYYY" in skipped["reason"]
    found = {i["title"]: i for i in await items(client, staff, "opportunities")}
    sbir = found["Small Business Innovation Research (SBIR) Phase I: Agricultural Technologies"]
    assert (sbir["amount_min"], sbir["amount_max"], sbir["currency"]) == (None, 18_150_000, "USD")
    # 15 October 2099, end of the day in New York (EDT, UTC-4)
    assert sbir["deadline"] == "2099-10-16T03:59:59Z"
    assert sbir["summary"] == "National Institute of Food and Agriculture · USDA-NIFA-SBIR-010245"
    assert sbir["eligibility"]["countries"] == ["US"]
    assert sbir["tags"] == ["funding"]  # category AG, through the source's map
    assert any(e["reason"] == "unmapped category 'CD'" for e in run["entries"])
    assert "<p>Phase I projects" in sbir["description"]
    rural = found["Rural Business Development Grants"]
    assert rural["rolling"] is True
    assert rural["deadline"] is None
    assert (rural["amount_min"], rural["amount_max"]) == (1_000_000, 50_000_000)


async def test_jsonld_page_events(client, staff, feeds) -> None:
    org = await make_org(client, staff)
    url = feeds.put_fixture("events-page.html")
    source = await make_source(
        client, staff, org["id"], url, kind="jsonld", target="event",
        defaults={"type": "networking", "timezone": "Africa/Nairobi"},
    )  # fmt: skip
    run = await run_now(client, staff, source["id"])
    assert (run["counts"]["created"], run["counts"]["skipped"]) == (2, 1), run
    assert "not ISO 8601" in next(e["reason"] for e in run["entries"] if e["outcome"] == "skipped")
    found = {e["title"]: e for e in await items(client, staff, "events")}
    pitch = found["Pitch Night: Agritech Edition"]
    assert pitch["start_at"] == "2099-02-12T15:00:00Z"
    assert pitch["format"] == "in_person"
    assert pitch["venue"]["city"] == "Nairobi"
    assert pitch["venue"]["country"] == "KE"
    assert pitch["timezone"] == "Africa/Nairobi"
    assert pitch["price"] == 0
    clinic = found["Online Tax Clinic for SMEs"]
    assert clinic["format"] == "online"
    assert clinic["online_url"] == "https://meet.example.co.ke/tax-clinic"
    assert (clinic["price"], clinic["currency"]) == (50_000, "KES")


async def test_csv_source(client, staff, feeds) -> None:
    org = await make_org(client, staff)
    url = feeds.put_fixture("opportunities.csv")
    source = await make_source(client, staff, org["id"], url, kind="csv")
    run = await run_now(client, staff, source["id"])
    assert (run["counts"]["created"], run["counts"]["skipped"]) == (2, 1), run
    bad = next(e for e in run["entries"] if e["outcome"] == "skipped")
    assert bad["external_id"] == "csv-3"
    assert "currency is required" in bad["reason"]
    again = await run_now(client, staff, source["id"])
    assert again["not_modified"] is True


async def test_hand_entered_items_are_untouched(client, staff, partner, feeds) -> None:
    org = await make_org(client, partner)
    mine = await make_opportunity(
        client, partner, org["id"], title="Hand entered", publish_as=staff
    )
    url = feeds.put_fixture("grants-feed.rss")
    source = await make_source(client, staff, org["id"], url)
    await run_now(client, staff, source["id"])
    again = (await client.get(f"{API}/opportunities/{mine['id']}", headers=staff.headers)).json()
    assert again["version"] == mine["version"]
    assert again["title"] == "Hand entered"


async def test_at_most_two_requests_at_once_per_host(client, staff, feeds) -> None:
    org = await make_org(client, staff)
    ids = []
    for name in "abcde":
        url = feeds.put(
            f"/slow/{name}.rss", (fixture_server.FIXTURES / "grants-feed.rss").read_bytes()
        )
        ids.append((await make_source(client, staff, org["id"], url))["id"])
    for source_id in ids:  # all queued before any runs
        accepted = await client.post(f"{API}/admin/sources/{source_id}/run", headers=staff.headers)
        assert accepted.status_code == 202
    await run_now(client, staff, ids[0])
    assert len([s for s in feeds.seen if s.path.startswith("/slow/")]) == 6
    assert feeds.most_active == 2  # INGEST_PER_HOST_CONCURRENCY


async def test_due_sources_run_on_schedule_once_per_period(client, staff, feeds) -> None:
    org = await make_org(client, staff)
    source = await make_source(client, staff, org["id"], feeds.put_fixture("grants-feed.rss"))
    paused = await make_source(
        client, staff, org["id"], feeds.url("/grants-feed.rss"), enabled=False
    )
    due = utcnow() - timedelta(minutes=1)
    await Source.get_motor_collection().update_many({}, {"$set": {"due_at": due}})
    await sweep_sources()
    await sweep_sources()  # nothing is due any more: no second run
    await email.drain()
    listed = (
        await client.get(f"{API}/admin/sources/{source['id']}/runs", headers=staff.headers)
    ).json()
    [run] = listed["items"]
    assert run["trigger"] == "schedule"
    assert run["status"] == "succeeded"
    assert run["counts"]["created"] == 3
    fresh = (await client.get(f"{API}/admin/sources/{source['id']}", headers=staff.headers)).json()
    assert fresh["last_run_id"] == run["id"]
    assert fresh["next_run_at"] > run["created_at"]
    quiet = await client.get(f"{API}/admin/sources/{paused['id']}/runs", headers=staff.headers)
    assert quiet.json()["items"] == []
    # a repeated period (a redelivered sweep) finds its run instead of making another
    again = await runs.scheduled_run(PydanticObjectId(source["id"]), due.isoformat())
    assert (
        await runs.scheduled_run(PydanticObjectId(source["id"]), due.isoformat())
    ).id == again.id
