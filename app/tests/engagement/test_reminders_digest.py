"""Reminders at the user's offsets across time zones and DST, claimed once however many
sweeps run; one digest per user at their time, merging what is pending, nothing twice, never
empty; dismissed items left out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from beanie import PydanticObjectId

from app.email import drain
from app.models.notification import DigestSchedule, Notification, Subject
from app.models.reminder import Reminder
from app.services.notifications import mailing
from app.tasks.alerts import _remind
from app.tasks.claims import DueQueue
from app.tasks.notifications import _digest
from app.tests.engagement.helpers import API, give, outbox
from app.tests.factories import make_event, make_opportunity, make_org

PREFS = f"{API}/me/notification-preferences"
DEADLINE = datetime(2027, 3, 15, 16, 0, tzinfo=UTC)  # 12:00 in New York (EDT since 14 March)


async def sweep_reminders(at: datetime):
    return await DueQueue(Reminder.get_motor_collection()).sweep(_remind, now=lambda: at)


async def sweep_digests(at: datetime):
    result = await DueQueue(DigestSchedule.get_motor_collection()).sweep(_digest, now=lambda: at)
    for user_id in result.claimed_ids:
        await mailing.after_digest(PydanticObjectId(user_id))
    return result


async def reminders_of(user) -> dict[int, datetime | None]:
    rows = await Reminder.find({"user_id": PydanticObjectId(user.id)}).to_list()
    return {r.offset: r.due_at for r in rows}


async def titles(client, user, category):
    response = await client.get(
        f"{API}/notifications", headers=user.headers, params={"category": category}
    )
    return [n["title"] for n in response.json()["items"]]


async def test_deadline_reminders_keep_local_time_across_dst(
    client, partner, staff, entrepreneur, make_user
):
    tokyo = await make_user()
    await client.put(PREFS, headers=entrepreneur.headers, json={"timezone": "America/New_York"})
    await client.put(
        PREFS, headers=tokyo.headers, json={"timezone": "Asia/Tokyo", "deadline_reminder_days": [1]}
    )
    org = await make_org(client, partner)
    item = await make_opportunity(
        client, partner, org["id"], publish_as=staff, deadline=DEADLINE.isoformat()
    )
    for user in (entrepreneur, tokyo):
        assert (
            await client.put(f"{API}/opportunities/{item['id']}/save", headers=user.headers)
        ).status_code == 200
    assert await reminders_of(entrepreneur) == {
        14: datetime(2027, 3, 1, 17, 0, tzinfo=UTC),  # 12:00 EST
        3: datetime(2027, 3, 12, 17, 0, tzinfo=UTC),  # 12:00 EST
        1: datetime(2027, 3, 14, 16, 0, tzinfo=UTC),  # 12:00 EDT: 23 hours before, not 24
    }
    assert await reminders_of(tokyo) == {1: DEADLINE - timedelta(days=1)}  # no DST there
    # two sweeps at once, on time for the 14-day reminder: it is sent once
    at = datetime(2027, 3, 1, 17, 0, 30, tzinfo=UTC)
    results = await asyncio.gather(sweep_reminders(at), sweep_reminders(at))
    assert sum(r.completed for r in results) == 1
    assert await titles(client, entrepreneur, "deadline_reminder") == [
        f"Deadline in 14 days: {item['title']}"
    ]
    (note,) = (
        await client.get(
            f"{API}/notifications",
            headers=entrepreneur.headers,
            params={"category": "deadline_reminder"},
        )
    ).json()["items"]
    assert note["body"].endswith("close on 15 March 2027.")
    assert await sweep_reminders(at) is not None
    assert len(await titles(client, entrepreneur, "deadline_reminder")) == 1
    # the deadline moves: the reminders follow it (and the 14-day one fires again)
    moved = await client.patch(
        f"{API}/opportunities/{item['id']}",
        headers=staff.headers,
        json={"deadline": "2027-04-15T16:00:00+00:00"},
    )
    assert moved.status_code == 200
    await drain()
    assert (await reminders_of(entrepreneur))[14] == datetime(2027, 4, 1, 16, 0, tzinfo=UTC)
    # unsaving drops them
    await client.delete(f"{API}/opportunities/{item['id']}/save", headers=entrepreneur.headers)
    assert await reminders_of(entrepreneur) == {}


async def test_event_reminders_and_changed_offsets(client, partner, staff, entrepreneur):
    org = await make_org(client, partner)
    event = await make_event(client, partner, org["id"], publish_as=staff)
    start = datetime.fromisoformat(event["start_at"].replace("Z", "+00:00"))
    await client.put(f"{API}/events/{event['id']}/rsvp", headers=entrepreneur.headers, json={})
    assert await reminders_of(entrepreneur) == {
        1440: start - timedelta(days=1),
        60: start - timedelta(hours=1),
    }
    await client.put(PREFS, headers=entrepreneur.headers, json={"event_reminder_minutes": [30]})
    assert await reminders_of(entrepreneur) == {30: start - timedelta(minutes=30)}
    await sweep_reminders(start - timedelta(minutes=29))
    assert await titles(client, entrepreneur, "event_reminder") == [
        f"Starts in 30 minutes: {event['title']}"
    ]
    await client.delete(f"{API}/events/{event['id']}/rsvp", headers=entrepreneur.headers)
    assert await reminders_of(entrepreneur) == {}


async def test_one_digest_merges_everything_pending_once(client, entrepreneur):
    await client.put(
        PREFS,
        headers=entrepreneur.headers,
        json={
            "timezone": "Europe/Paris",
            "digest_time": "08:00",
            "channels": {
                "saved_item_changed": {"in_app": "instant", "email": "daily"},
                "deadline_reminder": {"in_app": "instant", "email": "daily"},
            },
        },
    )
    first = await give(entrepreneur, "saved_search_match", title="New grant for “Solar”")
    second = await give(entrepreneur, "saved_item_changed", title="Deadline moved")
    third = await give(entrepreneur, "deadline_reminder", title="Deadline in 3 days")
    assert await outbox(entrepreneur.email) == []  # nothing instant
    schedule = await DigestSchedule.get(PydanticObjectId(entrepreneur.id))
    due = schedule.due_at
    assert due is not None
    assert (
        due.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris")).strftime("%H:%M") == "08:00"
    )
    assert await sweep_digests(due - timedelta(minutes=1)) is not None
    assert await outbox(entrepreneur.email) == []  # not yet
    results = await asyncio.gather(sweep_digests(due), sweep_digests(due))
    assert sum(r.completed for r in results) == 1
    mails = await outbox(entrepreneur.email)
    assert len(mails) == 1
    assert mails[0].template == "digest"
    for doc in (first, second, third):
        assert doc.title in mails[0].body
        assert (await Notification.get(doc.id)).email_state == "sent"
    # nothing new: no digest tomorrow
    assert (await DigestSchedule.get(PydanticObjectId(entrepreneur.id))).due_at is None
    await sweep_digests(due + timedelta(days=1))
    assert len(await outbox(entrepreneur.email)) == 1


async def test_a_dismissed_item_leaves_the_digest_and_an_empty_one_is_not_sent(
    client, partner, staff, entrepreneur
):
    org = await make_org(client, partner)
    item = await make_opportunity(client, partner, org["id"], publish_as=staff)
    await give(
        entrepreneur,
        "saved_search_match",
        title="About to be dismissed",
        subject=Subject(kind="opportunity", id=item["id"], title=item["title"]),
    )
    put = await client.put(
        f"{API}/me/dismissed/opportunity/{item['id']}", headers=entrepreneur.headers
    )
    assert put.status_code == 200
    due = (await DigestSchedule.get(PydanticObjectId(entrepreneur.id))).due_at
    assert due is not None
    await sweep_digests(due)
    assert await outbox(entrepreneur.email) == []


async def test_news_of_an_item_withdrawn_before_the_digest_is_not_mailed(
    client, partner, staff, entrepreneur
):
    """A saved-search match waits for the morning digest; the item was taken down in
    between (closed, archived, sent back to review): its title and link were still
    e-mailed. News of an item that is no longer public now stays out of the e-mail; a
    change notice about a followed item (its closing, say) still goes."""
    org = await make_org(client, partner)
    kept = await make_opportunity(client, partner, org["id"], publish_as=staff, title="Wind grant")
    gone = await make_opportunity(client, partner, org["id"], publish_as=staff, title="Scam grant")
    for item in (kept, gone):
        await give(
            entrepreneur,
            "saved_search_match",
            title=f"New opportunity for “Grants”: {item['title']}",
            subject=Subject(kind="opportunity", id=item["id"], title=item["title"]),
        )
    closed = await give(
        entrepreneur,
        "saved_item_changed",
        title="Closed: Scam grant",
        subject=Subject(kind="opportunity", id=gone["id"], title=gone["title"]),
        email_override="daily",
    )
    taken = await client.post(f"{API}/opportunities/{gone['id']}/close", headers=staff.headers)
    assert taken.status_code == 200, taken.text
    due = (await DigestSchedule.get(PydanticObjectId(entrepreneur.id))).due_at
    assert due is not None
    await sweep_digests(due)
    [mail] = await outbox(entrepreneur.email)
    assert "Wind grant" in mail.body
    assert closed.title in mail.body
    assert "New opportunity for “Grants”: Scam grant" not in mail.body
