"""Saved items that change in what readers rely on notify their savers with the field-level
change, in the saver's time zone; cosmetic edits never do; a member's change notifies only
once staff approve it; cancelling an event tells everyone who RSVPed."""

from __future__ import annotations

from app.email import drain
from app.tests.engagement.helpers import API, outbox
from app.tests.factories import make_event, make_opportunity, make_org


async def inbox(client, user, **params):
    response = await client.get(f"{API}/notifications", headers=user.headers, params=params)
    return response.json()["items"]


async def saved_opportunity(client, partner, staff, saver, **fields):
    org = await make_org(client, partner)
    item = await make_opportunity(
        client, partner, org["id"], publish_as=staff, deadline="2027-03-01T12:00:00+00:00", **fields
    )
    saved = await client.put(f"{API}/opportunities/{item['id']}/save", headers=saver.headers)
    assert saved.status_code == 200, saved.text
    await drain()
    return item


async def test_a_deadline_move_notifies_savers_with_the_change(
    client, partner, staff, entrepreneur, make_user
):
    bystander = await make_user()
    item = await saved_opportunity(client, partner, staff, entrepreneur)
    edit = await client.patch(
        f"{API}/opportunities/{item['id']}",
        headers=staff.headers,
        json={"deadline": "2027-03-15T12:00:00+00:00", "amount_max": 750_000},
    )
    assert edit.status_code == 200, edit.text
    await drain()
    notes = await inbox(client, entrepreneur, category="saved_item_changed")
    assert len(notes) == 1
    note = notes[0]
    assert note["title"] == f"{item['title']}: deadline moved from 1 March 2027 to 15 March 2027"
    assert {"field": "deadline", "before": "1 March 2027", "after": "15 March 2027"} in note[
        "changes"
    ]
    assert {"field": "amount_max", "before": "5,000.00 USD", "after": "7,500.00 USD"} in note[
        "changes"
    ]
    assert note["reason"] == {
        "type": "saved_item",
        "id": item["id"],
        "label": item["title"],
        "preference": "saved_item_changed",
    }
    assert await inbox(client, bystander) == []


async def test_dates_are_told_in_the_savers_time_zone(client, partner, staff, entrepreneur):
    await client.put(
        f"{API}/me/notification-preferences",
        headers=entrepreneur.headers,
        json={"timezone": "Pacific/Auckland"},
    )
    item = await saved_opportunity(client, partner, staff, entrepreneur)
    await client.patch(
        f"{API}/opportunities/{item['id']}",
        headers=staff.headers,
        json={"deadline": "2027-03-15T12:00:00+00:00"},
    )
    await drain()
    (note,) = await inbox(client, entrepreneur, category="saved_item_changed")
    # 12:00 UTC is already the next day in Auckland (UTC+13 in March)
    assert note["changes"][0] == {
        "field": "deadline",
        "before": "2 March 2027",
        "after": "16 March 2027",
    }


async def test_cosmetic_edits_never_notify(client, partner, staff, entrepreneur):
    item = await saved_opportunity(client, partner, staff, entrepreneur)
    edit = await client.patch(
        f"{API}/opportunities/{item['id']}",
        headers=staff.headers,
        json={"title": "A better title", "description": "<p>Reworded</p>", "tags": ["funding"]},
    )
    assert edit.status_code == 200, edit.text
    await drain()
    assert await inbox(client, entrepreneur, category="saved_item_changed") == []


async def test_a_members_change_notifies_once_staff_approve_it(
    client, partner, staff, entrepreneur
):
    item = await saved_opportunity(client, partner, staff, entrepreneur)
    url = f"{API}/opportunities/{item['id']}"
    proposed = await client.patch(
        url, headers=partner.headers, json={"application_url": "https://apply.example.org/new"}
    )
    assert proposed.status_code == 202, proposed.text
    await drain()
    assert await inbox(client, entrepreneur, category="saved_item_changed") == []
    approved = await client.post(f"{url}/revision/approve", headers=staff.headers)
    assert approved.status_code == 200, approved.text
    await drain()
    (note,) = await inbox(client, entrepreneur, category="saved_item_changed")
    assert note["changes"] == [
        {"field": "application_url", "before": None, "after": "https://apply.example.org/new"}
    ]
    assert note["title"].endswith("application link set to https://apply.example.org/new")


async def test_a_status_change_notifies(client, partner, staff, entrepreneur):
    item = await saved_opportunity(client, partner, staff, entrepreneur)
    closed = await client.post(f"{API}/opportunities/{item['id']}/close", headers=partner.headers)
    assert closed.status_code == 200, closed.text
    await drain()
    (note,) = await inbox(client, entrepreneur, category="saved_item_changed")
    assert note["changes"] == [{"field": "status", "before": "published", "after": "closed"}]


async def test_event_changes_and_cancellation_reach_people_who_rsvped(
    client, partner, staff, entrepreneur
):
    org = await make_org(client, partner)
    event = await make_event(client, partner, org["id"], publish_as=staff)
    rsvp = await client.put(
        f"{API}/events/{event['id']}/rsvp", headers=entrepreneur.headers, json={"status": "going"}
    )
    assert rsvp.status_code in (200, 201), rsvp.text
    moved = await client.patch(
        f"{API}/events/{event['id']}",
        headers=staff.headers,
        json={"start_at": "2099-03-02T09:00:00+03:00", "end_at": "2099-03-02T12:00:00+03:00"},
    )
    assert moved.status_code == 200, moved.text
    await drain()
    (changed,) = await inbox(client, entrepreneur, category="saved_item_changed")
    assert changed["reason"]["type"] == "rsvp"
    assert changed["changes"][0]["field"] == "start_at"
    assert "moved from 1 March 2099, 06:00 (UTC) to 2 March 2099, 06:00 (UTC)" in changed["title"]
    cancelled = await client.post(
        f"{API}/events/{event['id']}/cancel",
        headers=partner.headers,
        json={"reason": "Venue flooded"},
    )
    assert cancelled.status_code == 200, cancelled.text
    await drain()
    rsvp_notes = [
        n
        for n in await inbox(client, entrepreneur, category="rsvp")
        if n["event"] == "event_cancelled"
    ]
    assert len(rsvp_notes) == 1
    # the event is no longer public: the inbox keeps only what a tombstone shows
    assert rsvp_notes[0]["subject"] == {"kind": "event", "id": event["id"], "title": ""}
    assert rsvp_notes[0]["title"] == "An event you followed is no longer available"
    assert "Venue flooded" not in str(await inbox(client, entrepreneur))
    # the cancellation is told as an RSVP notification, not twice
    assert len(await inbox(client, entrepreneur, category="saved_item_changed")) == 1


async def test_a_new_online_link_is_told_only_to_people_going(
    client, partner, staff, entrepreneur, make_user
):
    """The online link is for organisers and people going: someone merely interested (or
    waitlisted) is not sent it in a change note, in the inbox or by e-mail."""
    interested = await make_user()
    org = await make_org(client, partner)
    event = await make_event(client, partner, org["id"], publish_as=staff)
    for user, status in ((entrepreneur, "going"), (interested, "interested")):
        rsvp = await client.put(
            f"{API}/events/{event['id']}/rsvp", headers=user.headers, json={"status": status}
        )
        assert rsvp.status_code in (200, 201), rsvp.text
    await drain()
    moved = await client.patch(
        f"{API}/events/{event['id']}",
        headers=staff.headers,
        json={"online_url": "https://meet.example.org/new-secret-room"},
    )
    assert moved.status_code == 200, moved.text
    await drain()
    (told,) = await inbox(client, entrepreneur, category="saved_item_changed")
    assert told["changes"][0]["after"] == "https://meet.example.org/new-secret-room"
    assert await inbox(client, interested, category="saved_item_changed") == []
    both = await client.patch(
        f"{API}/events/{event['id']}",
        headers=staff.headers,
        json={"online_url": "https://meet.example.org/third-room", "price": 500, "currency": "KES"},
    )
    assert both.status_code == 200, both.text
    await drain()
    (note,) = await inbox(client, interested, category="saved_item_changed")
    assert [c["field"] for c in note["changes"]] == ["price", "currency"]
    assert "room" not in str(note)
    (mail,) = await outbox(to=interested.email, template="saved_item_changed")
    assert "price" in mail.body
    assert "room" not in mail.body
    assert "room" not in (mail.html or "")
