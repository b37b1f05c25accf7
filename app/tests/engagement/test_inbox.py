"""The inbox over HTTP: list with filters and paging, unread count, read, read all, archive;
another user's notification is a 404; a producer running twice notifies once."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.services.notifications import notify
from app.tests.engagement.helpers import API, draft, give
from app.tests.errors import assert_error


async def test_inbox_lists_filters_pages_and_counts(client, entrepreneur):
    first = await give(entrepreneur, "moderation", title="Approved")
    second = await give(entrepreneur, "rsvp", title="You're going")
    third = await give(entrepreneur, "rsvp", title="Promoted")
    h = entrepreneur.headers
    page = await client.get(f"{API}/notifications", headers=h, params={"limit": 2})
    assert page.status_code == 200, page.text
    body = page.json()
    assert [n["id"] for n in body["items"]] == [str(third.id), str(second.id)]
    nxt = await client.get(
        f"{API}/notifications", headers=h, params={"limit": 2, "cursor": body["next_cursor"]}
    )
    assert [n["id"] for n in nxt.json()["items"]] == [str(first.id)]
    assert nxt.json()["next_cursor"] is None
    item = body["items"][0]
    assert item["reason"] == {
        "type": "account",
        "id": None,
        "label": "your account",
        "preference": "rsvp",
    }
    assert item["subject"]["kind"] == "account"
    assert item["state"] == "unread"
    only = await client.get(f"{API}/notifications", headers=h, params={"category": "moderation"})
    assert [n["id"] for n in only.json()["items"]] == [str(first.id)]
    count = await client.get(f"{API}/notifications/unread-count", headers=h)
    assert count.json() == {"unread": 3}

    read = await client.post(f"{API}/notifications/{first.id}/read", headers=h)
    assert read.status_code == 200
    assert read.json()["state"] == "read"
    assert read.json()["read_at"] is not None
    again = await client.post(f"{API}/notifications/{first.id}/read", headers=h)
    assert again.json()["read_at"] == read.json()["read_at"]  # idempotent
    assert (await client.get(f"{API}/notifications/unread-count", headers=h)).json() == {
        "unread": 2
    }
    unread = await client.get(f"{API}/notifications", headers=h, params={"state": "unread"})
    assert {n["id"] for n in unread.json()["items"]} == {str(second.id), str(third.id)}

    archived = await client.post(f"{API}/notifications/{second.id}/archive", headers=h)
    assert archived.json()["state"] == "archived"
    inbox = await client.get(f"{API}/notifications", headers=h)
    assert str(second.id) not in {n["id"] for n in inbox.json()["items"]}
    shelf = await client.get(f"{API}/notifications", headers=h, params={"state": "archived"})
    assert [n["id"] for n in shelf.json()["items"]] == [str(second.id)]

    done = await client.post(f"{API}/notifications/read-all", headers=h)
    assert done.json() == {"marked_read": 1}
    assert (await client.get(f"{API}/notifications/unread-count", headers=h)).json() == {
        "unread": 0
    }


async def test_another_users_notification_is_not_found(client, entrepreneur, partner):
    mine = await give(entrepreneur)
    for action in ("read", "archive"):
        response = await client.post(
            f"{API}/notifications/{mine.id}/{action}", headers=partner.headers
        )
        assert_error(response, 404, "NOTIFICATION_NOT_FOUND")
    listed = await client.get(f"{API}/notifications", headers=partner.headers)
    assert listed.json()["items"] == []
    bogus = await client.post(f"{API}/notifications/not-an-id/read", headers=partner.headers)
    assert_error(bogus, 404, "NOTIFICATION_NOT_FOUND")
    assert_error(await client.get(f"{API}/notifications"), 401, "NOT_AUTHENTICATED")


async def test_bad_filters_are_422(client, entrepreneur):
    h = entrepreneur.headers
    for params in ({"state": "deleted"}, {"category": "gossip"}, {"limit": 0}, {"cursor": "x!"}):
        response = await client.get(f"{API}/notifications", headers=h, params=params)
        assert response.status_code == 422, (params, response.text)


async def test_a_producer_running_twice_notifies_once(client, entrepreneur):
    d = draft("moderation", dedupe_key="same-key")
    user_id = PydanticObjectId(entrepreneur.id)
    assert await notify(user_id, d) is not None
    assert await notify(user_id, d) is None
    listed = await client.get(f"{API}/notifications", headers=entrepreneur.headers)
    assert len(listed.json()["items"]) == 1
