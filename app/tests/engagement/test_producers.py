"""Every producer through the API: RSVP confirmation and waitlist promotion, moderation
outcomes for organisation members, invitations for confirmed accounts, account security
(always delivered), admin announcements to a segment respecting preferences and quiet
hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from beanie import PydanticObjectId

from app.email import drain
from app.models.announcement import Announcement
from app.models.notification import Notification
from app.models.user import User
from app.services import announcements
from app.tests.engagement.helpers import API, outbox
from app.tests.errors import assert_error
from app.tests.factories import make_event, make_opportunity, make_org

PREFS = f"{API}/me/notification-preferences"


async def inbox(client, user, **params):
    response = await client.get(f"{API}/notifications", headers=user.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_rsvp_confirmation_waitlist_and_promotion(
    client, partner, staff, entrepreneur, make_user
):
    second = await make_user()
    org = await make_org(client, partner)
    event = await make_event(client, partner, org["id"], publish_as=staff, capacity=1)
    url = f"{API}/events/{event['id']}/rsvp"
    assert (await client.put(url, headers=entrepreneur.headers, json={})).status_code == 200
    assert (
        await client.put(url, headers=entrepreneur.headers, json={})
    ).status_code == 200  # again
    waiting = await client.put(url, headers=second.headers, json={})
    assert waiting.json()["status"] == "waitlisted"
    assert [n["event"] for n in await inbox(client, entrepreneur, category="rsvp")] == [
        "rsvp_going"
    ]
    assert [n["title"] for n in await inbox(client, second, category="rsvp")] == [
        f"You're on the waitlist: {event['title']}"
    ]
    assert (await client.delete(url, headers=entrepreneur.headers)).status_code == 204
    notes = await inbox(client, second, category="rsvp")
    assert [n["event"] for n in notes] == ["waitlist_promoted", "rsvp_waitlisted"]
    assert notes[0]["reason"] == {
        "type": "rsvp",
        "id": event["id"],
        "label": event["title"],
        "preference": "rsvp",
    }
    await drain()
    mails = await outbox(second.email)
    assert [m.template for m in mails] == ["rsvp_confirmation", "waitlist_promotion"]


async def test_moderation_outcomes_reach_the_members_but_not_the_moderator(
    client, partner, staff, make_user
):
    editor = await make_user(role="partner")
    org = await make_org(client, partner)
    from app.tests.factories import add_member

    await add_member(client, partner, org["id"], editor)
    item = await make_opportunity(client, partner, org["id"])
    assert (
        await client.post(f"{API}/opportunities/{item['id']}/submit", headers=partner.headers)
    ).status_code == 200
    rejected = await client.post(
        f"{API}/opportunities/{item['id']}/reject",
        headers=staff.headers,
        json={"reason": "Add the eligibility"},
    )
    assert rejected.status_code == 200, rejected.text
    await drain()
    for member in (partner, editor):
        (note,) = await inbox(client, member, category="moderation")
        assert note["event"] == "changes_requested"
        assert note["body"] == "Reason: Add the eligibility"
        assert note["reason"]["type"] == "membership"
    assert await inbox(client, staff, category="moderation") == []
    await client.post(f"{API}/opportunities/{item['id']}/submit", headers=partner.headers)
    await client.post(f"{API}/opportunities/{item['id']}/approve", headers=staff.headers)
    await drain()
    events = [n["event"] for n in await inbox(client, editor, category="moderation")]
    assert events == ["approved", "changes_requested"]


async def test_invitations_show_in_app_for_confirmed_accounts_only(client, partner, make_user):
    confirmed = await make_user()
    unconfirmed = await make_user()
    await User.get_motor_collection().update_one(
        {"_id": PydanticObjectId(unconfirmed.id)}, {"$set": {"is_verified": False}}
    )
    org = await make_org(client, partner, name="Acme Ventures")
    for user in (confirmed, unconfirmed):
        response = await client.post(
            f"{API}/organisations/{org['id']}/invitations",
            headers=partner.headers,
            json={"email": user.email, "role": "editor"},
        )
        assert response.status_code == 201, response.text
    await drain()
    (note,) = await inbox(client, confirmed)
    assert note["category"] == "organisation"
    assert note["title"] == "You are invited to join Acme Ventures"
    assert note["email"] == "none"  # the invitation e-mail is the e-mail
    assert [m.template for m in await outbox(confirmed.email)] == ["organisation_invitation"]
    assert await inbox(client, unconfirmed) == []


async def test_account_security_cannot_be_missed(client, entrepreneur):
    await client.put(
        PREFS,
        headers=entrepreneur.headers,
        json={"channels": {"rsvp": {"in_app": "off", "email": "off"}}},
    )
    changed = await client.post(
        f"{API}/users/me/password",
        headers=entrepreneur.headers,
        json={
            "current_password": entrepreneur.password,
            "new_password": "another-long-passphrase-7",
        },
    )
    assert changed.status_code in (200, 204), changed.text
    (note,) = await inbox(client, entrepreneur, category="account_security")
    assert note["title"] == "Your password was changed"
    mails = await outbox(entrepreneur.email)
    assert [m.template for m in mails] == ["account_security"]


async def _profile(client, user, country):
    response = await client.put(
        f"{API}/profiles/me",
        headers=user.headers,
        json={"display_name": "X", "business_name": "Y", "country": country},
    )
    assert response.status_code in (200, 201), response.text


async def _opt_in(client, user, **extra):
    body = {"channels": {"announcement": {"in_app": "instant", "email": "instant"}}, **extra}
    assert (await client.put(PREFS, headers=user.headers, json=body)).status_code == 200


async def test_announcements_reach_the_segment_as_preferences_say(client, admin, make_user):
    kenyan, ugandan, silent = await make_user(), await make_user(), await make_user()
    partner_ke = await make_user(role="partner")
    night_owl = await make_user()
    for user, country in (
        (kenyan, "KE"),
        (ugandan, "UG"),
        (silent, "KE"),
        (partner_ke, "KE"),
        (night_owl, "KE"),
    ):
        await _profile(client, user, country)
    for user in (kenyan, ugandan, partner_ke):
        await _opt_in(client, user)
    now = datetime.now(UTC)
    await _opt_in(
        client,
        night_owl,
        quiet_hours={
            "start": (now - timedelta(hours=1)).strftime("%H:%M"),
            "end": (now + timedelta(hours=3)).strftime("%H:%M"),
        },
    )
    response = await client.post(
        f"{API}/admin/announcements",
        headers=admin.headers,
        json={
            "title": "New funding round",
            "body": "Apply by May.",
            "segment": {"roles": ["entrepreneur"], "countries": ["KE"]},
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"{API}/admin/announcements/{body['id']}"
    await drain()
    done = await client.get(f"{API}/admin/announcements/{body['id']}", headers=admin.headers)
    assert done.json()["status"] == "done"
    assert done.json()["recipients"] == 2  # kenyan + night owl (silent never opted in)
    assert [n["title"] for n in await inbox(client, kenyan)] == ["New funding round"]
    for user in (ugandan, silent, partner_ke):
        assert await inbox(client, user) == []
    assert [m.subject for m in await outbox(kenyan.email)] == ["New funding round"]
    assert await outbox(night_owl.email) == []  # quiet hours: the e-mail waits
    held = await Notification.find_one({"user_id": PydanticObjectId(night_owl.id)})
    assert held is not None
    assert held.due_at is not None
    assert held.due_at > now + timedelta(hours=2)


async def test_announcement_validation_and_access(client, admin, entrepreneur):
    url = f"{API}/admin/announcements"
    bad = await client.post(url, headers=admin.headers, json={"title": "Hi", "body": ""})
    assert_error(bad, 422, "VALIDATION_ERROR")
    bad_segment = await client.post(
        url,
        headers=admin.headers,
        json={"title": "Hello", "body": "x", "segment": {"roles": ["wizard"]}},
    )
    assert_error(bad_segment, 422, "VALIDATION_ERROR")
    unknown_ref = await client.post(
        url,
        headers=admin.headers,
        json={"title": "Hello", "body": "x", "segment": {"industries": ["alchemy"]}},
    )
    assert_error(unknown_ref, 422, "UNKNOWN_REFERENCE")
    forbidden = await client.post(
        url, headers=entrepreneur.headers, json={"title": "Hello", "body": "x"}
    )
    assert_error(forbidden, 403, "INSUFFICIENT_ROLE")
    assert_error(
        await client.get(f"{url}/64b7f0c2a1b2c3d4e5f60718", headers=admin.headers),
        404,
        "ANNOUNCEMENT_NOT_FOUND",
    )


async def test_an_announcement_resumed_after_a_dead_run_counts_each_recipient_once(
    client, admin, make_user
):
    """A fan-out that died after notifying a batch but before counting it: the retry's
    `notify` finds those notifications and created none, so the announcement said 0
    recipients for a batch that was reached. The batch is now counted from what exists."""
    readers = [await make_user() for _ in range(3)]
    for reader in readers:
        await _opt_in(client, reader)
    response = await client.post(
        f"{API}/admin/announcements",
        headers=admin.headers,
        json={"title": "Office hours", "body": "Fridays.", "segment": {"roles": ["entrepreneur"]}},
    )
    assert response.status_code == 201, response.text
    await drain()
    url = f"{API}/admin/announcements/{response.json()['id']}"
    assert (await client.get(url, headers=admin.headers)).json()["recipients"] == 3
    # as the dead run left it: everyone notified, nothing counted, still sending
    await Announcement.get_motor_collection().update_one(
        {"_id": PydanticObjectId(response.json()["id"])},
        {"$set": {"status": "sending", "reached_after": None, "recipients": 0}},
    )
    assert await announcements.fan_out(response.json()["id"]) == 3
    done = (await client.get(url, headers=admin.headers)).json()
    assert (done["status"], done["recipients"]) == ("done", 3)
    for reader in readers:
        assert len(await inbox(client, reader)) == 1
