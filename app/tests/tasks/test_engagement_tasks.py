"""The engagement tasks on both engines (in-process, and a real Redis with a worker):
duplicated scheduling, duplicated messages and a worker that died mid-unit produce every
notification and e-mail once — percolation, reminders, digests, announcements."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from beanie import PydanticObjectId

from app.models.base import utcnow
from app.models.email import OutboxEmail
from app.models.notification import DigestSchedule, Notification
from app.models.reminder import Reminder
from app.tasks import alerts, notifications
from app.tests.engagement.helpers import give
from app.tests.factories import API, make_event, make_opportunity, make_org, make_user
from app.tests.tasks.conftest import Engine


async def _users(engine: Engine, n: int = 1):
    return [await make_user(engine.settings) for _ in range(n)]


async def test_duplicate_percolation_messages_notify_each_user_once(engine: Engine) -> None:
    partner, staff = (
        await make_user(engine.settings, role="partner"),
        await make_user(engine.settings, role="staff"),
    )
    (reader,) = await _users(engine)
    async with engine.client() as client:
        search = await client.post(
            f"{API}/me/saved-searches",
            headers=reader.headers,
            json={
                "name": "Solar",
                "kind": "opportunity",
                "query": {"q": "solar"},
                "alert": "instant",
            },
        )
        assert search.status_code == 201, search.text
        org = await make_org(client, partner)
        item = await make_opportunity(
            client, partner, org["id"], publish_as=staff, title="Solar dryers"
        )
    # the same message three times (a redelivery, a duplicate enqueue), two at once
    await asyncio.gather(
        *(alerts.percolate.kiq(kind="opportunity", item_id=item["id"]) for _ in range(3))
    )
    await engine.drain()
    notes = await Notification.find({"user_id": PydanticObjectId(reader.id)}).to_list()
    assert [n.category for n in notes] == ["saved_search_match"]
    assert (
        await OutboxEmail.find({"to": reader.email, "template": "saved_search_alert"}).count() == 1
    )


async def test_duplicate_reminder_sweeps_and_a_dead_worker_remind_once(engine: Engine) -> None:
    partner, staff = (
        await make_user(engine.settings, role="partner"),
        await make_user(engine.settings, role="staff"),
    )
    (reader,) = await _users(engine)
    async with engine.client() as client:
        org = await make_org(client, partner)
        event = await make_event(client, partner, org["id"], publish_as=staff)
        assert (
            await client.put(f"{API}/events/{event['id']}/rsvp", headers=reader.headers, json={})
        ).status_code == 200
    await engine.drain()
    collection = Reminder.get_motor_collection()
    # make both reminders due now; one was claimed by a worker that died after notifying
    await collection.update_many({}, {"$set": {"due_at": utcnow() - timedelta(seconds=5)}})
    dead = await collection.find_one({"offset": 60})
    assert dead is not None
    await give(
        reader,
        "event_reminder",
        dedupe_key=f"reminder:event:{event['id']}:60:{dead['target_at'].isoformat()}",
        title="(sent by the worker that died)",
    )
    await collection.update_one(
        {"_id": dead["_id"]},
        {"$set": {"claim_token": "dead-worker", "claim_until": utcnow() - timedelta(seconds=1)}},
    )
    await asyncio.gather(*(alerts.sweep_reminders.kiq() for _ in range(3)))
    await engine.drain()
    notes = await Notification.find(
        {"user_id": PydanticObjectId(reader.id), "category": "event_reminder"}
    ).to_list()
    assert len(notes) == 2  # one per offset: the dead worker's was not repeated
    assert await collection.count_documents({"due_at": None, "claim_token": None}) == 2


async def test_duplicate_digest_sweeps_send_one_digest(engine: Engine) -> None:
    (reader,) = await _users(engine)
    for n in range(3):
        await give(reader, "saved_search_match", title=f"Match {n}")
    await DigestSchedule.get_motor_collection().update_one(
        {"_id": PydanticObjectId(reader.id)}, {"$set": {"due_at": utcnow() - timedelta(seconds=1)}}
    )
    await asyncio.gather(*(notifications.sweep_digests.kiq() for _ in range(4)))
    await engine.drain()
    mails = await OutboxEmail.find({"to": reader.email, "template": "digest"}).to_list()
    assert len(mails) == 1
    assert all(f"Match {n}" in mails[0].body for n in range(3))
    # and an instant e-mail task enqueued twice for one notification: one e-mail
    doc = await give(reader, "moderation", title="Once only")
    await asyncio.gather(
        *(notifications.email_notification.kiq(notification_id=str(doc.id)) for _ in range(3))
    )
    await engine.drain()
    assert await OutboxEmail.find({"to": reader.email, "subject": "Once only"}).count() == 1


async def test_an_announcement_fanned_out_twice_reaches_each_user_once(engine: Engine) -> None:
    admin = await make_user(engine.settings, role="admin")
    readers = await _users(engine, 3)
    async with engine.client() as client:
        for reader in readers:
            response = await client.put(
                f"{API}/me/notification-preferences",
                headers=reader.headers,
                json={"channels": {"announcement": {"in_app": "instant", "email": "off"}}},
            )
            assert response.status_code == 200
        created = await client.post(
            f"{API}/admin/announcements",
            headers=admin.headers,
            json={"title": "Hello all", "body": "News", "segment": {"roles": ["entrepreneur"]}},
        )
        assert created.status_code == 201, created.text
    await alerts.announce.kiq(announcement_id=created.json()["id"])  # a duplicate message
    await engine.drain()
    for reader in readers:
        assert (
            await Notification.find(
                {"user_id": PydanticObjectId(reader.id), "category": "announcement"}
            ).count()
            == 1
        )
