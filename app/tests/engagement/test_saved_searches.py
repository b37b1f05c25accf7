"""Saved searches over HTTP: CRUD, the same validation as the lists, the per-user cap,
privacy; percolation when an item becomes public (published, or a revision approved) with
one notification per user and item; `/matches` shows what is new since the last look."""

from __future__ import annotations

import pytest

from app.email import drain
from app.models.notification import Notification
from app.tests.engagement.helpers import API
from app.tests.errors import assert_error
from app.tests.factories import make_event, make_opportunity, make_org

URL = f"{API}/me/saved-searches"


async def save(client, user, query, kind="opportunity", name="My search", alert="instant"):
    response = await client.post(
        URL, headers=user.headers, json={"name": name, "kind": kind, "query": query, "alert": alert}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def inbox(client, user):
    response = await client.get(f"{API}/notifications", headers=user.headers)
    return response.json()["items"]


async def test_create_list_read_update_delete(client, entrepreneur, partner):
    h = entrepreneur.headers
    created = await client.post(
        URL,
        headers=h,
        json={
            "name": "Solar in Kenya",
            "kind": "opportunity",
            "query": {"q": "solar", "country": "ke", "type": "grant,loan"},
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"{URL}/{body['id']}"
    assert body["query"] == {"q": "solar", "country": "KE", "type": ["grant", "loan"]}
    assert body["alert"] == "daily"
    listed = await client.get(URL, headers=h)
    assert [s["id"] for s in listed.json()["items"]] == [body["id"]]
    assert (await client.get(f"{URL}/{body['id']}", headers=h)).json() == body
    patched = await client.patch(
        f"{URL}/{body['id']}",
        headers=h,
        json={"name": "Solar", "alert": "off", "query": {"q": "solar pumps"}},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["alert"]) == ("Solar", "off")
    assert patched.json()["query"] == {"q": "solar pumps"}
    # another user's search does not exist for them
    for method, extra in (("get", {}), ("patch", {"json": {"name": "x"}}), ("delete", {})):
        response = await getattr(client, method)(
            f"{URL}/{body['id']}", headers=partner.headers, **extra
        )
        assert_error(response, 404, "SAVED_SEARCH_NOT_FOUND")
    assert_error(
        await client.get(f"{URL}/{body['id']}/matches", headers=partner.headers),
        404,
        "SAVED_SEARCH_NOT_FOUND",
    )
    assert (await client.get(URL, headers=partner.headers)).json()["items"] == []
    gone = await client.delete(f"{URL}/{body['id']}", headers=h)
    assert gone.status_code == 204
    assert_error(await client.get(f"{URL}/{body['id']}", headers=h), 404, "SAVED_SEARCH_NOT_FOUND")


@pytest.mark.parametrize(
    ("kind", "query", "code"),
    [
        ("opportunity", {"bogus": "1"}, "VALIDATION_ERROR"),
        ("opportunity", {"sort": "newest"}, "INVALID_SAVED_QUERY"),
        ("opportunity", {"limit": 5}, "INVALID_SAVED_QUERY"),
        ("opportunity", {"amount_min": 100}, "CURRENCY_REQUIRED"),
        ("opportunity", {"q": "!!!"}, "INVALID_QUERY"),
        ("opportunity", {"type": "no-such-type"}, "UNKNOWN_REFERENCE"),
        ("opportunity", {"country": "XX"}, "VALIDATION_ERROR"),
        ("opportunity", {"stages": "unicorn"}, "VALIDATION_ERROR"),
        ("event", {"near_lat": 1.0}, "VALIDATION_ERROR"),
        ("event", {"format": "telepathy"}, "VALIDATION_ERROR"),
        ("gadget", {}, "VALIDATION_ERROR"),
    ],
)
async def test_queries_are_validated_like_the_lists(client, entrepreneur, kind, query, code):
    response = await client.post(
        URL, headers=entrepreneur.headers, json={"name": "x", "kind": kind, "query": query}
    )
    assert_error(response, 422, code)
    assert (await client.get(URL, headers=entrepreneur.headers)).json()["items"] == []


@pytest.mark.parametrize("settings_overrides", [{"saved_searches_per_user": 2}])
async def test_a_user_has_at_most_the_configured_number(client, entrepreneur):
    first = await save(client, entrepreneur, {"q": "one"})
    await save(client, entrepreneur, {"q": "two"})
    response = await client.post(
        URL, headers=entrepreneur.headers, json={"name": "3", "kind": "event", "query": {}}
    )
    assert_error(response, 409, "SAVED_SEARCH_LIMIT")
    assert (
        await client.delete(f"{URL}/{first['id']}", headers=entrepreneur.headers)
    ).status_code == 204
    await save(client, entrepreneur, {"q": "three"})


async def test_a_published_item_notifies_matching_searches_once(
    client, entrepreneur, make_user, partner, staff
):
    other = await make_user()
    solar = await save(
        client, entrepreneur, {"q": "solar", "country": "KE", "type": "grant"}, name="Solar KE"
    )
    await save(client, entrepreneur, {"q": "solar"}, name="Any solar")  # same user, same item
    await save(client, other, {"q": "solar", "country": "UG"})  # does not match
    await save(client, other, {"type": "loan"})
    org = await make_org(client, partner)
    item = await make_opportunity(
        client,
        partner,
        org["id"],
        title="Solar pumps for farmers",
        eligibility={"countries": ["KE"]},
    )
    await drain()
    assert await inbox(client, entrepreneur) == []  # a draft is nobody's news
    published = await client.post(
        f"{API}/opportunities/{item['id']}/publish", headers=staff.headers
    )
    assert published.status_code == 200
    await drain()
    notes = await inbox(client, entrepreneur)
    assert len(notes) == 1
    note = notes[0]
    assert note["category"] == "saved_search_match"
    assert note["subject"] == {
        "kind": "opportunity",
        "id": item["id"],
        "title": "Solar pumps for farmers",
    }
    assert note["reason"]["type"] == "saved_search"
    mine = (await client.get(URL, headers=entrepreneur.headers)).json()["items"]
    assert note["reason"]["id"] in {s["id"] for s in mine}  # the search that matched first
    assert note["reason"]["label"] in {"Solar KE", "Any solar"}
    assert await inbox(client, other) == []
    # closing and publishing again: still one notification per user and item
    await client.post(f"{API}/opportunities/{item['id']}/close", headers=staff.headers)
    await client.post(f"{API}/opportunities/{item['id']}/publish", headers=staff.headers)
    await drain()
    assert len(await inbox(client, entrepreneur)) == 1
    matches = await client.get(f"{URL}/{solar['id']}/matches", headers=entrepreneur.headers)
    assert matches.status_code == 200, matches.text
    assert [m["item_id"] for m in matches.json()["items"]] == [item["id"]]
    again = await client.get(f"{URL}/{solar['id']}/matches", headers=entrepreneur.headers)
    assert again.json()["items"] == []  # nothing new since the last look
    assert again.json()["since"] == matches.json()["until"]


async def test_an_approved_revision_makes_an_item_match(client, entrepreneur, partner, staff):
    org = await make_org(client, partner)
    item = await make_opportunity(client, partner, org["id"], publish_as=staff, title="Farm grant")
    await save(client, entrepreneur, {"q": "biogas"})
    await drain()
    edit = await client.patch(
        f"{API}/opportunities/{item['id']}",
        headers=partner.headers,
        json={"summary": "Now for biogas digesters"},
    )
    assert edit.status_code == 202, edit.text
    await drain()
    assert await inbox(client, entrepreneur) == []  # pending: not public yet
    approved = await client.post(
        f"{API}/opportunities/{item['id']}/revision/approve", headers=staff.headers
    )
    assert approved.status_code == 200, approved.text
    await drain()
    notes = await inbox(client, entrepreneur)
    assert [n["subject"]["id"] for n in notes] == [item["id"]]


async def test_events_percolate_with_their_own_filters(client, entrepreneur, partner, staff):
    await save(
        client,
        entrepreneur,
        {"near_lat": -1.29, "near_lng": 36.82, "radius_km": 30, "format": "hybrid"},
        kind="event",
    )
    await save(
        client,
        entrepreneur,
        {"near_lat": 51.5, "near_lng": -0.12, "radius_km": 30},
        kind="event",
        name="London",
    )
    org = await make_org(client, partner)
    event = await make_event(client, partner, org["id"], publish_as=staff)
    await drain()
    notes = await inbox(client, entrepreneur)
    assert [n["subject"]["id"] for n in notes] == [event["id"]]
    assert notes[0]["reason"]["label"] == "My search"


async def test_a_dismissed_item_never_alerts(client, entrepreneur, partner, staff):
    org = await make_org(client, partner)
    item = await make_opportunity(client, partner, org["id"], publish_as=staff, title="Wind grant")
    await client.post(f"{API}/opportunities/{item['id']}/close", headers=staff.headers)
    await save(client, entrepreneur, {"q": "wind"})
    # dismissed while it was visible... (re-publish first so it can be dismissed)
    await client.post(f"{API}/opportunities/{item['id']}/publish", headers=staff.headers)
    await drain()
    await Notification.find({}).delete()
    put = await client.put(
        f"{API}/me/dismissed/opportunity/{item['id']}", headers=entrepreneur.headers
    )
    assert put.status_code == 200
    await client.post(f"{API}/opportunities/{item['id']}/close", headers=staff.headers)
    await client.post(f"{API}/opportunities/{item['id']}/publish", headers=staff.headers)
    await drain()
    assert await inbox(client, entrepreneur) == []
