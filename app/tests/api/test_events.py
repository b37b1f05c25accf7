"""Events: validation, online-link privacy, RSVPs with capacity and waitlist, attendees, iCal, geo."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest
from httpx import AsyncClient
from icalendar import Calendar

from app.models.event import Event
from app.models.interaction import Rsvp
from app.tests.errors import assert_error
from app.tests.factories import event_body, make_event, make_org
from app.utils.geo import haversine_km

API = "/api/v1/events"


@pytest.fixture
async def org(client: AsyncClient, partner):
    return await make_org(client, partner, name="Events Org")


@pytest.fixture
async def event(client: AsyncClient, partner, staff, org):
    return await make_event(client, partner, org["id"], publish_as=staff, capacity=2)


@pytest.mark.parametrize(
    "fields",
    [
        {"end_at": "2099-03-01T08:00:00+03:00"},  # before start
        {"timezone": "Mars/Olympus_Mons"},
        {"format": "in_person", "venue": None},
        {"venue": {"lat": 91, "lng": 0}},
        {"venue": {"lat": 1.0}},
        {"price": 500},  # paid without currency
        {"capacity": 0},
        {"registration_deadline": "2099-04-01T00:00:00Z"},  # after the end
        {"start_at": "2099-03-01T09:00:00"},  # naive
        {"going_count": 5},
    ],
)
async def test_create_validation(client: AsyncClient, partner, org, fields) -> None:
    response = await client.post(API, headers=partner.headers, json=event_body(org["id"], **fields))
    assert_error(response, 422, "VALIDATION_ERROR")
    assert await Event.find_all().count() == 0


async def test_times_stored_utc_with_zone(client: AsyncClient, event) -> None:
    assert event["start_at"] == "2099-03-01T06:00:00Z"
    assert event["timezone"] == "Africa/Nairobi"
    assert event["seats_left"] == 2
    assert event["is_free"] is True


async def test_online_link_only_for_organisers_and_going(
    client: AsyncClient, event, partner, entrepreneur, make_user
) -> None:
    url = f"{API}/{event['id']}"
    assert (await client.get(url)).json()["online_url"] is None
    assert (await client.get(url, headers=entrepreneur.headers)).json()["online_url"] is None
    assert (await client.get(url, headers=partner.headers)).json()[
        "online_url"
    ] == "https://meet.example.org/secret-room"
    await client.put(f"{url}/rsvp", headers=entrepreneur.headers, json={"status": "going"})
    assert (
        (await client.get(url, headers=entrepreneur.headers))
        .json()["online_url"]
        .endswith("secret-room")
    )
    listed = (await client.get(API, headers=entrepreneur.headers)).json()["items"]
    assert listed[0]["online_url"].endswith("secret-room")
    interested = await make_user()
    await client.put(f"{url}/rsvp", headers=interested.headers, json={"status": "interested"})
    assert (await client.get(url, headers=interested.headers)).json()["online_url"] is None
    assert "secret-room" not in (await client.get(API)).text


async def test_rsvp_waitlist_and_promotion(client: AsyncClient, event, make_user) -> None:
    url = f"{API}/{event['id']}/rsvp"
    users = [await make_user() for _ in range(4)]
    statuses = []
    for user in users:
        response = await client.put(url, headers=user.headers, json={"status": "going"})
        assert response.status_code == 200
        statuses.append((response.json()["status"], response.json()["waitlist_position"]))
    assert statuses == [("going", None), ("going", None), ("waitlisted", 1), ("waitlisted", 2)]
    again = await client.put(url, headers=users[2].headers, json={"status": "going"})
    assert again.json()["status"] == "waitlisted"  # idempotent, keeps the place
    assert (await client.delete(url, headers=users[0].headers)).status_code == 204
    promoted = await Rsvp.find_one({"user_id": users[2].user.id})
    assert promoted.status == "going"
    fresh = (await client.get(f"{API}/{event['id']}")).json()
    assert (fresh["going_count"], fresh["waitlist_count"], fresh["seats_left"]) == (2, 1, 0)
    # Going -> interested frees the seat for the next in line.
    switched = await client.put(url, headers=users[1].headers, json={"status": "interested"})
    assert switched.json()["status"] == "interested"
    assert (await Rsvp.find_one({"user_id": users[3].user.id})).status == "going"
    fresh = (await client.get(f"{API}/{event['id']}")).json()
    assert (fresh["going_count"], fresh["waitlist_count"], fresh["interested_count"]) == (2, 0, 1)
    assert_error((await client.delete(url, headers=users[0].headers)), 404, "RSVP_NOT_FOUND")
    assert (
        await client.put(url, headers=users[0].headers, json={"status": "waitlisted"})
    ).status_code == 422


async def test_rsvp_needs_open_published_event(
    client: AsyncClient, partner, org, entrepreneur, staff
) -> None:
    draft = await make_event(client, partner, org["id"])
    assert (
        await client.put(f"{API}/{draft['id']}/rsvp", headers=entrepreneur.headers, json={})
    ).status_code == 404
    closed_reg = await make_event(
        client, partner, org["id"], publish_as=staff, registration_deadline="2000-01-01T00:00:00Z",
        start_at="2000-01-01T10:00:00Z", end_at="2099-01-01T10:00:00Z",
    )  # fmt: skip
    response = await client.put(
        f"{API}/{closed_reg['id']}/rsvp", headers=entrepreneur.headers, json={}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "REGISTRATION_CLOSED"


async def test_no_overbooking_under_concurrency(
    client: AsyncClient, partner, staff, org, make_user
) -> None:
    event = await make_event(client, partner, org["id"], publish_as=staff, capacity=15)
    url = f"{API}/{event['id']}/rsvp"
    early = [await make_user() for _ in range(5)]
    for user in early:
        assert (await client.put(url, headers=user.headers, json={"status": "going"})).json()[
            "status"
        ] == "going"
    crowd = [await make_user() for _ in range(50)]
    responses = await asyncio.gather(
        *(client.put(url, headers=u.headers, json={"status": "going"}) for u in crowd)
    )
    outcomes = [r.json()["status"] for r in responses]
    assert outcomes.count("going") == 10
    assert outcomes.count("waitlisted") == 40
    positions = sorted(
        r.json()["waitlist_position"] for r in responses if r.json()["status"] == "waitlisted"
    )
    assert positions == list(range(1, 41))
    stored = await Event.get(event["id"])
    assert stored.going_count == 15
    assert stored.waitlist_count == 40
    assert await Rsvp.find({"event_id": stored.id, "status": "going"}).count() == 15


async def test_attendees_list_and_csv(
    client: AsyncClient, event, partner, make_user, entrepreneur
) -> None:
    url = f"{API}/{event['id']}"
    sneaky = await make_user(full_name='=HYPERLINK("http://evil")')
    for user in (entrepreneur, sneaky):
        await client.put(f"{url}/rsvp", headers=user.headers, json={"status": "going"})
    assert_error(
        (await client.get(f"{url}/attendees", headers=entrepreneur.headers)),
        403,
        "NOT_ORGANISATION_MEMBER",
    )
    listed = (await client.get(f"{url}/attendees", headers=partner.headers)).json()
    assert [a["email"] for a in listed["items"]] == [entrepreneur.email, sneaky.email]
    response = await client.get(f"{url}/attendees.csv", headers=partner.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["email"] for r in rows] == [entrepreneur.email, sneaky.email]
    assert rows[1]["full_name"].startswith("'=")  # formula neutralised
    # One datetime format everywhere: the CSV's times are the JSON's.
    assert [r["rsvp_at"] for r in rows] == [a["created_at"] for a in listed["items"]]
    assert all(r["rsvp_at"].endswith("Z") for r in rows)
    assert (
        await client.get(f"{url}/attendees.csv", headers=entrepreneur.headers)
    ).status_code == 403


async def test_ical(client: AsyncClient, event, entrepreneur) -> None:
    response = await client.get(f"{API}/{event['id']}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    vevent = next(c for c in cal.walk("VEVENT"))
    assert str(vevent["summary"]) == event["title"]
    # Links that leave the API are absolute, from PUBLIC_BASE_URL.
    assert str(vevent["url"]) == f"http://127.0.0.1:8000{API}/{event['id']}"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    start = vevent.decoded("dtstart")
    assert str(start.tzinfo) == "Africa/Nairobi"
    assert start.isoformat() == "2099-03-01T09:00:00+03:00"
    assert any(c.name == "VTIMEZONE" for c in cal.walk())
    assert "secret-room" not in response.text  # anonymous: no online link
    await client.put(
        f"{API}/{event['id']}/rsvp", headers=entrepreneur.headers, json={"status": "going"}
    )
    mine = await client.get(f"{API}/{event['id']}.ics", headers=entrepreneur.headers)
    assert "secret-room" in mine.text.replace("\r\n ", "")


async def test_my_events(client: AsyncClient, event, entrepreneur) -> None:
    await client.put(
        f"{API}/{event['id']}/rsvp", headers=entrepreneur.headers, json={"status": "interested"}
    )
    mine = (await client.get("/api/v1/me/events", headers=entrepreneur.headers)).json()["items"]
    assert [(m["event"]["id"], m["rsvp"]["status"]) for m in mine] == [(event["id"], "interested")]


POINTS = [
    ("Nairobi CBD", -1.2864, 36.8172),
    ("Westlands", -1.2676, 36.8108),
    ("Thika", -1.0333, 37.0693),
    ("Mombasa", -4.0435, 39.6682),
    ("Fiji East", -17.7, 179.9),
    ("Fiji West", -17.7, -179.9),
]


async def test_near_filter_matches_exact_distance(client: AsyncClient, partner, staff, org) -> None:
    created = {}
    for name, lat, lng in POINTS:
        item = await make_event(
            client, partner, org["id"], publish_as=staff, title=f"Meetup {name}",
            venue={"name": name, "country": "KE", "lat": lat, "lng": lng},
        )  # fmt: skip
        created[item["id"]] = (lat, lng)
    for lat, lng, radius in (
        (-1.2864, 36.8172, 5),
        (-1.2864, 36.8172, 40),
        (-1.2864, 36.8172, 500),
        (-17.7, 179.95, 30),
    ):
        response = await client.get(
            API, params={"near_lat": lat, "near_lng": lng, "radius_km": radius, "limit": 100}
        )
        assert response.status_code == 200
        got = {i["id"]: i["distance_km"] for i in response.json()["items"]}
        expected = {i for i, (a, b) in created.items() if haversine_km(lat, lng, a, b) <= radius}
        assert set(got) == expected, (lat, lng, radius)
        for item_id, distance in got.items():
            assert distance == pytest.approx(haversine_km(lat, lng, *created[item_id]), abs=0.001)
    antimeridian = await client.get(
        API, params={"near_lat": -17.7, "near_lng": 179.95, "radius_km": 30}
    )
    assert len(antimeridian.json()["items"]) == 2
    partial = await client.get(API, params={"near_lat": 1, "near_lng": 2})
    assert_error(partial, 422, "VALIDATION_ERROR")


async def test_event_filters_and_search(client: AsyncClient, partner, staff, org) -> None:
    await make_event(client, partner, org["id"], publish_as=staff, title="Online Pitch Night", format="online",
                     venue=None, type="pitch-event", price=1000, currency="KES")  # fmt: skip
    await make_event(client, partner, org["id"], publish_as=staff, title="Lagos Networking Breakfast",
                     type="networking", venue={"city": "Lagos", "country": "NG"}, start_at="2099-05-01T08:00:00+01:00",
                     end_at="2099-05-01T10:00:00+01:00")  # fmt: skip
    titles = lambda r: [i["title"] for i in r.json()["items"]]  # noqa: E731
    assert titles(await client.get(API, params={"format": "online"})) == ["Online Pitch Night"]
    assert titles(await client.get(API, params={"country": "NG"})) == ["Lagos Networking Breakfast"]
    assert titles(await client.get(API, params={"city": "Lagos"})) == ["Lagos Networking Breakfast"]
    assert titles(await client.get(API, params={"free": "false"})) == ["Online Pitch Night"]
    assert titles(await client.get(API, params={"q": "networking"})) == [
        "Lagos Networking Breakfast"
    ]
    assert titles(await client.get(API, params={"start_from": "2099-04-01T00:00:00Z"})) == [
        "Lagos Networking Breakfast"
    ]
    assert titles(await client.get(API, params={"sort": "start"})) == [
        "Online Pitch Night",
        "Lagos Networking Breakfast",
    ]
    facets = (await client.get(API, params={"facets": "format,country"})).json()["facets"]
    assert {f["value"] for f in facets["format"]} == {"online", "hybrid"}
    assert_error((await client.get(API, params={"sort": "deadline"})), 422, "INVALID_SORT")


async def test_capacity_cannot_drop_below_going(
    client: AsyncClient, event, partner, entrepreneur, make_user
) -> None:
    other = await make_user()
    for user in (entrepreneur, other):
        await client.put(f"{API}/{event['id']}/rsvp", headers=user.headers, json={})
    response = await client.patch(
        f"{API}/{event['id']}", headers=partner.headers, json={"capacity": 1}
    )
    assert_error(response, 422, "VALIDATION_ERROR")
