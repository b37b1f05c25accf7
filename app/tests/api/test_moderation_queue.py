"""Moderation, continued: events' revisions, review approval with If-Match, the staff queue
mixing reviews and revisions, and `featured` (staff and admins only)."""

from __future__ import annotations

from httpx import AsyncClient

from app.models.audit import AuditEntry
from app.models.opportunity import Opportunity
from app.tests.api import moderation_helpers
from app.tests.api.moderation_helpers import EVT, OPP, _etag
from app.tests.errors import assert_error
from app.tests.factories import make_event, make_opportunity, opportunity_body

# The shared fixtures (an organisation, a live opportunity), used by name.
org = moderation_helpers.org
live = moderation_helpers.live


async def test_event_revisions(client: AsyncClient, partner, staff, org, entrepreneur) -> None:
    event = await make_event(client, partner, org["id"], publish_as=staff)
    url = f"{EVT}/{event['id']}"
    await client.put(f"{url}/rsvp", headers=entrepreneur.headers, json={"status": "going"})
    moved = await client.patch(
        url,
        headers=partner.headers,
        json={
            "venue": {"name": "Elsewhere", "city": "Mombasa", "country": "KE"},
            "online_url": "https://phish.example.net/login",
            "capacity": 50,
        },
    )
    assert moved.status_code == 202
    assert set(moved.json()["pending_revision"]["changes"]) == {"venue", "online_url"}
    attendee_view = (await client.get(url, headers=entrepreneur.headers)).json()
    assert attendee_view["capacity"] == 50  # capacity is operational: live at once
    assert attendee_view["venue"]["city"] == "Nairobi"
    assert attendee_view["online_url"].endswith("secret-room")
    assert attendee_view["pending_revision"] is None
    ics = await client.get(f"{url}.ics", headers=entrepreneur.headers)
    assert "phish" not in ics.text
    assert "Mombasa" not in ics.text
    assert "Mombasa" not in (await client.get(EVT, params={"city": "Mombasa"})).text
    bad_dates = await client.patch(
        url, headers=partner.headers, json={"end_at": "2000-01-01T00:00:00Z"}
    )
    assert_error(bad_dates, 422, "VALIDATION_ERROR")
    approved = await client.post(f"{url}/revision/approve", headers=staff.headers)
    assert approved.json()["venue"]["city"] == "Mombasa"
    assert (await client.get(EVT, params={"city": "Mombasa"})).json()["items"][0]["id"] == event[
        "id"
    ]


async def test_review_approval_honours_if_match(client: AsyncClient, partner, staff, org) -> None:
    item = await make_opportunity(client, partner, org["id"])
    url = f"{OPP}/{item['id']}"
    submitted = await client.post(f"{url}/submit", headers=partner.headers)
    reviewed = submitted.headers["etag"]
    await client.patch(url, headers=partner.headers, json={"title": "Changed After Review"})
    stale = await client.post(f"{url}/approve", headers={**staff.headers, "If-Match": reviewed})
    assert_error(stale, 412, "VERSION_MISMATCH")
    assert_error((await client.get(url)), 404, "OPPORTUNITY_NOT_FOUND")  # still not public
    fresh = await client.get(url, headers=staff.headers)
    ok = await client.post(f"{url}/approve", headers={**staff.headers, **_etag(fresh)})
    assert ok.status_code == 200
    assert ok.json()["title"] == "Changed After Review"


async def test_queue_mixes_reviews_and_revisions(
    client: AsyncClient, live, partner, staff, org
) -> None:
    new = await make_opportunity(client, partner, org["id"], title="Brand New")
    await client.post(f"{OPP}/{new['id']}/submit", headers=partner.headers)
    await client.patch(f"{OPP}/{live['id']}", headers=partner.headers, json={"title": "Edited"})
    event = await make_event(client, partner, org["id"], publish_as=staff)
    await client.patch(f"{EVT}/{event['id']}", headers=partner.headers, json={"title": "Evt New"})

    def queue(**params):
        return client.get("/api/v1/admin/moderation", headers=staff.headers, params=params)

    everything = (await queue(include_total="true")).json()
    assert [(i["kind"], i["moderation"], i["id"]) for i in everything["items"]] == [
        ("opportunity", "review", new["id"]),
        ("opportunity", "revision", live["id"]),
        ("event", "revision", event["id"]),
    ]
    assert everything["total"] == 3
    assert everything["items"][0]["revision"] is None
    seen, cursor = [], None
    while True:
        page = (await queue(limit=1, **({"cursor": cursor} if cursor else {}))).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [i["id"] for i in everything["items"]]
    only_events = (await queue(kind="event", moderation="revision")).json()["items"]
    assert [i["id"] for i in only_events] == [event["id"]]
    assert_error((await queue(moderation="bogus")), 422, "VALIDATION_ERROR")


# --- featured: staff and admins only -----------------------------------------------------------


async def test_members_cannot_feature(client: AsyncClient, partner, staff, org) -> None:
    refused = await client.post(
        OPP, headers=partner.headers, json=opportunity_body(org["id"], featured=True)
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "STAFF_ONLY_FIELD"
    assert refused.json()["error"]["details"][0]["loc"] == ["body", "featured"]
    assert await Opportunity.find_all().count() == 0
    plain = await client.post(
        OPP, headers=partner.headers, json=opportunity_body(org["id"], featured=False)
    )
    assert plain.status_code == 201  # the default is not a change
    url = f"{OPP}/{plain.json()['id']}"
    for status_ in ("draft", "published"):
        if status_ == "published":
            await client.post(f"{url}/publish", headers=staff.headers)
        patched = await client.patch(url, headers=partner.headers, json={"featured": True})
        assert patched.status_code == 403, status_
        assert patched.json()["error"]["code"] == "STAFF_ONLY_FIELD"
        mixed = await client.patch(
            url, headers=partner.headers, json={"featured": True, "tags": ["export"]}
        )
        assert_error(mixed, 403, "STAFF_ONLY_FIELD")  # nothing of a refused edit is applied
    stored = await Opportunity.get(plain.json()["id"])
    assert stored.featured is False
    assert stored.tags == ["funding"]
    assert stored.pending_revision is None
    created_by_staff = await client.post(
        OPP, headers=staff.headers, json=opportunity_body(org["id"], featured=True)
    )
    assert created_by_staff.json()["featured"] is True


async def test_staff_feature_live_and_audited(client: AsyncClient, live, partner, staff) -> None:
    url = f"{OPP}/{live['id']}"
    featured = await client.patch(url, headers=staff.headers, json={"featured": True})
    assert featured.status_code == 200
    assert featured.json()["featured"] is True
    assert [
        i["id"] for i in (await client.get(OPP, params={"featured": "true"})).json()["items"]
    ] == [live["id"]]
    entry = await AuditEntry.find_one(
        AuditEntry.entity_id == live["id"], AuditEntry.action == "update"
    )
    assert entry.actor_role == "staff"
    assert entry.changes["featured"] == {"before": False, "after": True}
    # A member may send the current value back (a no-op), never a different one.
    same = await client.patch(url, headers=partner.headers, json={"featured": True})
    assert same.status_code == 200
    unfeature = await client.patch(url, headers=partner.headers, json={"featured": False})
    assert_error(unfeature, 403, "STAFF_ONLY_FIELD")
