"""Nothing non-public leaks through a side door: incremental sync (tombstones that no filter
or sort can probe), facets and totals, /me lists, .ics and attendees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient

from app.tests.errors import assert_error
from app.tests.factories import make_event, make_opportunity, make_org

OPP = "/api/v1/opportunities"
EVT = "/api/v1/events"
SECRET = "zebracorn"  # a word only the items that left the public set contain


@pytest.fixture
async def world(client: AsyncClient, partner, staff, entrepreneur):
    org = await make_org(client, partner)
    mark = datetime.now(UTC) - timedelta(seconds=1)
    public = await make_opportunity(
        client, partner, org["id"], publish_as=staff, title="Visible Grant", tags=["export"]
    )
    archived = await make_opportunity(
        client, partner, org["id"], publish_as=staff, title=f"Archived {SECRET} Grant",
        type="loan", tags=["mentorship"], eligibility={"countries": ["NG"]},
        deadline="2099-12-31T00:00:00Z",
    )  # fmt: skip
    cancelled = await make_event(
        client, partner, org["id"], publish_as=staff, title=f"Cancelled {SECRET} Meetup",
        venue={"name": "Far", "city": "Lagos", "country": "NG", "lat": 6.5, "lng": 3.4},
    )  # fmt: skip
    public_event = await make_event(client, partner, org["id"], publish_as=staff)
    # The entrepreneur saved / RSVP'd while they were public.
    await client.put(f"{OPP}/{archived['id']}/save", headers=entrepreneur.headers)
    await client.put(
        f"{OPP}/{archived['id']}/application",
        headers=entrepreneur.headers,
        json={"status": "applied"},
    )
    await client.put(f"{OPP}/{public['id']}/save", headers=entrepreneur.headers)
    await client.put(f"{EVT}/{cancelled['id']}/rsvp", headers=entrepreneur.headers, json={})
    await client.put(f"{EVT}/{public_event['id']}/rsvp", headers=entrepreneur.headers, json={})
    await client.delete(f"{OPP}/{archived['id']}", headers=partner.headers)
    await client.post(
        f"{EVT}/{cancelled['id']}/cancel", headers=partner.headers, json={"reason": SECRET}
    )
    never = await make_opportunity(client, partner, org["id"], title=f"Draft {SECRET}")
    return {
        "org": org,
        "mark": mark,
        "public": public,
        "archived": archived,
        "cancelled": cancelled,
        "public_event": public_event,
        "never": never,
    }


async def test_sync_tombstones_only_id_status_updated_at(client: AsyncClient, world) -> None:
    since = world["mark"].isoformat()
    page = (await client.get(OPP, params={"updated_since": since})).json()
    by_id = {i["id"]: i for i in page["items"]}
    assert set(by_id) == {world["public"]["id"], world["archived"]["id"]}
    tombstone = by_id[world["archived"]["id"]]
    assert set(tombstone) == {"id", "status", "updated_at"}
    assert tombstone["status"] == "archived"
    assert SECRET not in str(page)
    events = (await client.get(EVT, params={"updated_since": since})).json()["items"]
    gone = next(e for e in events if e["id"] == world["cancelled"]["id"])
    assert gone == {
        "id": world["cancelled"]["id"],
        "status": "cancelled",
        "updated_at": gone["updated_at"],
    }


@pytest.mark.parametrize(
    "params",
    [
        {"q": SECRET},
        {"q": "visible"},
        {"type": "loan"},
        {"type": "grant"},
        {"tags": "mentorship"},
        {"country": "NG"},
        {"deadline_from": "2099-12-01T00:00:00Z"},
        {"organisation": "no-such-org"},
    ],
)
async def test_sync_filters_cannot_probe_tombstones(client: AsyncClient, world, params) -> None:
    """Tombstones match no filter: whether one is in the answer says nothing about it."""
    since = world["mark"].isoformat()
    page = (await client.get(OPP, params={"updated_since": since, **params})).json()
    tombstones = [i["id"] for i in page["items"] if "title" not in i]
    assert tombstones == [world["archived"]["id"]]
    assert SECRET not in str(page)


async def test_sync_geo_and_sort_cannot_probe(client: AsyncClient, world) -> None:
    since = world["mark"].isoformat()
    near_lagos = {"near_lat": 6.5, "near_lng": 3.4, "radius_km": 5, "updated_since": since}
    far_away = {**near_lagos, "near_lat": -33.9, "near_lng": 18.4}
    a = (await client.get(EVT, params=near_lagos)).json()["items"]
    b = (await client.get(EVT, params=far_away)).json()["items"]
    assert a == b == [i for i in a if "title" not in i]  # only the tombstone, both times
    assert "distance_km" not in str(a)
    for sort in ("deadline", "newest", "relevance"):
        response = await client.get(OPP, params={"updated_since": since, "sort": sort, "q": "x"})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "INVALID_SORT"
    ok = await client.get(OPP, params={"updated_since": since, "sort": "updated"})
    assert ok.status_code == 200


async def test_facets_and_totals_count_public_only(
    client: AsyncClient, world, partner, make_user
) -> None:
    other = await make_user(role="partner")
    callers: list[dict[str, str]] = [{}, other.headers, partner.headers]
    for headers in callers:
        for since in (None, world["mark"].isoformat()):
            params: dict[str, str | int] = {
                "facets": "type,tags,country",
                "include_total": "true",
                "limit": 100,
            }
            if since:
                params["updated_since"] = since
            page = (await client.get(OPP, params=params, headers=headers)).json()
            facets = page["facets"]
            assert facets["type"] == [{"value": "grant", "count": 1}]
            assert facets["tags"] == [{"value": "export", "count": 1}]
            assert facets["country"] == []
            assert page["total"] == len(page["items"])
    searched = (
        await client.get(OPP, params={"q": SECRET, "include_total": "true", "facets": "type"})
    ).json()
    assert searched["items"] == []
    assert searched["total"] == 0
    assert searched["facets"] == {"type": []}


async def test_me_lists_show_tombstones_and_let_go(
    client: AsyncClient, world, entrepreneur
) -> None:
    mine = (await client.get("/api/v1/me/opportunities", headers=entrepreneur.headers)).json()
    by_id = {row["opportunity"]["id"]: row for row in mine["items"]}
    assert set(by_id) == {world["public"]["id"], world["archived"]["id"]}
    assert by_id[world["public"]["id"]]["opportunity"]["title"] == "Visible Grant"
    assert by_id[world["archived"]["id"]]["opportunity"] == {
        "id": world["archived"]["id"],
        "status": "archived",
        "updated_at": by_id[world["archived"]["id"]]["opportunity"]["updated_at"],
    }
    assert by_id[world["archived"]["id"]]["interaction"]["application_status"] == "applied"
    assert SECRET not in str(mine)
    events = (await client.get("/api/v1/me/events", headers=entrepreneur.headers)).json()
    assert SECRET not in str(events)
    statuses = {row["event"]["id"]: row["event"]["status"] for row in events["items"]}
    assert statuses == {
        world["cancelled"]["id"]: "cancelled",
        world["public_event"]["id"]: "published",
    }

    # Letting go works on items that left the public set; taking hold does not.
    url = f"{OPP}/{world['archived']['id']}"
    assert_error(
        (await client.put(f"{url}/save", headers=entrepreneur.headers)),
        404,
        "OPPORTUNITY_NOT_FOUND",
    )
    assert (await client.delete(f"{url}/save", headers=entrepreneur.headers)).status_code == 200
    cleared = await client.delete(f"{url}/application", headers=entrepreneur.headers)
    assert cleared.status_code == 200
    assert SECRET not in cleared.text
    mine = (await client.get("/api/v1/me/opportunities", headers=entrepreneur.headers)).json()
    assert [row["opportunity"]["id"] for row in mine["items"]] == [world["public"]["id"]]
    cancel = await client.delete(
        f"{EVT}/{world['cancelled']['id']}/rsvp", headers=entrepreneur.headers
    )
    assert cancel.status_code == 204
    events = (await client.get("/api/v1/me/events", headers=entrepreneur.headers)).json()
    assert [row["event"]["id"] for row in events["items"]] == [world["public_event"]["id"]]


async def test_no_row_no_door(client: AsyncClient, world, make_user) -> None:
    """Without a save or RSVP of your own, a non-public item is simply not found."""
    stranger = await make_user()
    for method, path in (
        ("DELETE", f"{OPP}/{world['archived']['id']}/save"),
        ("DELETE", f"{OPP}/{world['archived']['id']}/application"),
        ("DELETE", f"{OPP}/{world['never']['id']}/save"),
        ("DELETE", f"{EVT}/{world['cancelled']['id']}/rsvp"),
    ):
        response = await client.request(method, path, headers=stranger.headers)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] in {"OPPORTUNITY_NOT_FOUND", "EVENT_NOT_FOUND"}


async def test_ics_and_attendees_of_non_public_events(
    client: AsyncClient, world, entrepreneur, partner, make_user
) -> None:
    other = await make_user(role="partner")
    await make_org(client, other)
    cancelled = world["cancelled"]["id"]
    outsiders: list[dict[str, str]] = [{}, entrepreneur.headers, other.headers]
    for headers in outsiders:
        ics = await client.get(f"{EVT}/{cancelled}.ics", headers=headers)
        assert_error(ics, 404, "EVENT_NOT_FOUND")
        assert SECRET not in ics.text
    for headers in (entrepreneur.headers, other.headers):
        for suffix in ("/attendees", "/attendees.csv"):
            response = await client.get(f"{EVT}/{cancelled}{suffix}", headers=headers)
            assert_error(response, 404, "EVENT_NOT_FOUND")
            assert entrepreneur.email not in response.text
    # its organisers still can
    own = await client.get(f"{EVT}/{cancelled}.ics", headers=partner.headers)
    assert own.status_code == 200
    assert "CANCELLED" in own.text
    listed = await client.get(f"{EVT}/{cancelled}/attendees", headers=partner.headers)
    assert [a["email"] for a in listed.json()["items"]] == [entrepreneur.email]
