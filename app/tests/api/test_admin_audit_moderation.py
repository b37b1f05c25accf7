"""The audit log and the moderation queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from app.tests.errors import assert_error
from app.tests.factories import make_event, make_opportunity, make_org


async def test_audit_filters(client: AsyncClient, admin, partner, staff) -> None:
    org = await make_org(client, partner)
    item = await make_opportunity(client, partner, org["id"])
    await client.patch(
        f"/api/v1/opportunities/{item['id']}",
        headers=partner.headers,
        json={"title": "Renamed title"},
    )
    await client.post(f"/api/v1/opportunities/{item['id']}/publish", headers=staff.headers)

    def get(**params):
        return client.get("/api/v1/admin/audit", headers=admin.headers, params=params)

    assert (await get(entity="password_hash")).status_code == 422  # a closed set (an enum)
    by_item = (await get(entity="opportunity", entity_id=item["id"])).json()["items"]
    assert [e["action"] for e in by_item] == ["status_change", "update", "create"]  # newest first
    update = by_item[1]
    assert update["changes"]["title"] == {"before": item["title"], "after": "Renamed title"}
    assert update["actor_id"] == partner.id
    assert update["actor_role"] == "partner"
    assert update["request_id"]
    by_staff = (await get(actor_id=staff.id)).json()["items"]
    assert [e["action"] for e in by_staff] == ["status_change"]
    future = (await get(since=(datetime.now(UTC) + timedelta(minutes=1)).isoformat())).json()[
        "items"
    ]
    assert future == []
    window = (
        await get(
            until=(datetime.now(UTC) + timedelta(minutes=1)).isoformat(), entity="organisation"
        )
    ).json()
    assert [e["entity_id"] for e in window["items"]] == [org["id"]]
    assert_error((await get(actor_id="nope")), 422, "INVALID_ID")
    assert_error(
        (await client.get("/api/v1/admin/audit", headers=staff.headers)), 403, "INSUFFICIENT_ROLE"
    )


async def test_moderation_queue(client: AsyncClient, staff, partner) -> None:
    org = await make_org(client, partner)
    opp = await make_opportunity(client, partner, org["id"], title="Needs review opp")
    event = await make_event(client, partner, org["id"], title="Needs review event")
    await make_opportunity(client, partner, org["id"], title="Still a draft")
    await client.post(f"/api/v1/opportunities/{opp['id']}/submit", headers=partner.headers)
    await client.post(f"/api/v1/events/{event['id']}/submit", headers=partner.headers)
    queue = (
        await client.get(
            "/api/v1/admin/moderation", headers=staff.headers, params={"include_total": "true"}
        )
    ).json()
    assert [(i["kind"], i["title"]) for i in queue["items"]] == [
        ("opportunity", "Needs review opp"),
        ("event", "Needs review event"),
    ]
    assert queue["total"] == 2
    first = (
        await client.get("/api/v1/admin/moderation", headers=staff.headers, params={"limit": 1})
    ).json()
    second = (
        await client.get(
            "/api/v1/admin/moderation",
            headers=staff.headers,
            params={"limit": 1, "cursor": first["next_cursor"]},
        )
    ).json()
    assert [i["id"] for i in first["items"] + second["items"]] == [opp["id"], event["id"]]
    assert second["next_cursor"] is None
    only_events = (
        await client.get(
            "/api/v1/admin/moderation", headers=staff.headers, params={"kind": "event"}
        )
    ).json()
    assert [i["id"] for i in only_events["items"]] == [event["id"]]
    await client.post(f"/api/v1/events/{event['id']}/approve", headers=staff.headers)
    after = (await client.get("/api/v1/admin/moderation", headers=staff.headers)).json()["items"]
    assert [i["id"] for i in after] == [opp["id"]]
    assert (
        await client.get("/api/v1/admin/moderation", headers=partner.headers)
    ).status_code == 403
