"""Preferences over HTTP: defaults, replace, validation (422 in the error shape), and their
effect on `notify`: in-app off, e-mail instant or off, quiet hours holding e-mail back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from beanie import PydanticObjectId

from app.models.notification import Notification
from app.models.preferences import QuietHours
from app.services.notifications import timing
from app.services.notifications.preferences import defaults
from app.tests.engagement.helpers import API, give, outbox
from app.tests.errors import assert_error

URL = f"{API}/me/notification-preferences"


async def test_defaults_then_replace(client, entrepreneur):
    h = entrepreneur.headers
    got = await client.get(URL, headers=h)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["updated_at"] is None
    assert body["channels"]["announcement"] == {"in_app": "off", "email": "off"}  # opt-in
    assert body["channels"]["saved_search_match"] == {"in_app": "instant", "email": "daily"}
    assert body["channels"]["account_security"] == {"in_app": "instant", "email": "instant"}
    assert body["deadline_reminder_days"] == [14, 3, 1]
    assert body["event_reminder_minutes"] == [1440, 60]

    put = await client.put(
        URL,
        headers=h,
        json={
            "channels": {"announcement": {"in_app": "instant", "email": "weekly"}},
            "digest_time": "18:30",
            "timezone": "Europe/Paris",
            "quiet_hours": {"start": "22:00", "end": "07:00"},
            "deadline_reminder_days": [1, 7],
        },
    )
    assert put.status_code == 200, put.text
    saved = put.json()
    assert saved["channels"]["announcement"] == {"in_app": "instant", "email": "weekly"}
    assert saved["channels"]["rsvp"] == {"in_app": "instant", "email": "instant"}
    assert saved["deadline_reminder_days"] == [7, 1]
    assert saved["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert saved["updated_at"] is not None
    assert (await client.get(URL, headers=h)).json() == saved
    # PUT replaces: what is omitted goes back to its default
    reset = await client.put(URL, headers=h, json={})
    assert reset.json()["channels"]["announcement"] == {"in_app": "off", "email": "off"}
    assert reset.json()["timezone"] == "UTC"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"timezone": "Mars/Olympus"}, "VALIDATION_ERROR"),
        ({"digest_time": "25:00"}, "VALIDATION_ERROR"),
        ({"digest_time": "8am"}, "VALIDATION_ERROR"),
        ({"deadline_reminder_days": [0]}, "VALIDATION_ERROR"),
        ({"deadline_reminder_days": [3, 3]}, "VALIDATION_ERROR"),
        ({"deadline_reminder_days": [1, 2, 3, 4, 5, 6]}, "VALIDATION_ERROR"),
        ({"event_reminder_minutes": [1]}, "VALIDATION_ERROR"),
        ({"channels": {"gossip": {"in_app": "off", "email": "off"}}}, "VALIDATION_ERROR"),
        ({"channels": {"rsvp": {"in_app": "hourly", "email": "off"}}}, "VALIDATION_ERROR"),
        (
            {"channels": {"account_security": {"in_app": "instant", "email": "off"}}},
            "CATEGORY_LOCKED",
        ),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "VALIDATION_ERROR"),
        ({"digest_weekday": 7}, "VALIDATION_ERROR"),
        ({"surprise": True}, "VALIDATION_ERROR"),
    ],
)
async def test_invalid_preferences_are_422(client, entrepreneur, body, code):
    response = await client.put(URL, headers=entrepreneur.headers, json=body)
    assert_error(response, 422, code)
    assert (await client.get(URL, headers=entrepreneur.headers)).json()["updated_at"] is None


async def test_preferences_are_per_user(client, entrepreneur, partner):
    await client.put(URL, headers=entrepreneur.headers, json={"timezone": "Asia/Tokyo"})
    assert (await client.get(URL, headers=partner.headers)).json()["timezone"] == "UTC"
    assert_error(await client.get(URL), 401, "NOT_AUTHENTICATED")


async def test_channels_decide_inbox_and_email(client, entrepreneur):
    h = entrepreneur.headers
    await client.put(
        URL,
        headers=h,
        json={
            "channels": {
                "moderation": {"in_app": "off", "email": "instant"},
                "rsvp": {"in_app": "instant", "email": "off"},
                "organisation": {"in_app": "off", "email": "off"},
            }
        },
    )
    mailed = await give(entrepreneur, "moderation", title="Your item was approved")
    quiet = await give(entrepreneur, "rsvp", title="You are going")
    assert await give(entrepreneur, "organisation") is None  # nothing to do: not stored
    listed = await client.get(f"{API}/notifications", headers=h)
    assert [n["id"] for n in listed.json()["items"]] == [str(quiet.id)]
    mails = await outbox(entrepreneur.email)
    assert [m.subject for m in mails] == ["Your item was approved"]
    fresh = await Notification.get(mailed.id)
    assert fresh.email_state == "sent"
    assert (await Notification.get(quiet.id)).email_state == "none"


async def test_quiet_hours_hold_instant_email_until_they_end(client, entrepreneur):
    now = datetime.now(UTC)
    start = (now - timedelta(hours=1)).strftime("%H:%M")
    end = (now + timedelta(hours=2)).strftime("%H:%M")
    await client.put(
        URL, headers=entrepreneur.headers, json={"quiet_hours": {"start": start, "end": end}}
    )
    doc = await give(entrepreneur, "moderation", title="Held back")
    assert doc.due_at is not None
    assert doc.due_at > now + timedelta(hours=1)
    assert await outbox(entrepreneur.email) == []
    # the sweep sends it once the window is over (claimed in the database)
    from app.tasks.notifications import _send, email_queue

    result = await email_queue().sweep(_send, now=lambda: doc.due_at + timedelta(seconds=1))
    assert result.completed == 1
    assert [m.subject for m in await outbox(entrepreneur.email)] == ["Held back"]


def test_quiet_hours_wrap_midnight_in_the_users_zone():
    prefs = defaults(PydanticObjectId())
    prefs.timezone = "Africa/Nairobi"  # UTC+3
    prefs.quiet_hours = QuietHours(start="22:00", end="07:00")
    late = datetime(2027, 1, 10, 20, 30, tzinfo=UTC)  # 23:30 in Nairobi
    assert timing.out_of_quiet_hours(late, prefs) == datetime(2027, 1, 11, 4, 0, tzinfo=UTC)
    early = datetime(2027, 1, 11, 2, 0, tzinfo=UTC)  # 05:00
    assert timing.out_of_quiet_hours(early, prefs) == datetime(2027, 1, 11, 4, 0, tzinfo=UTC)
    day = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # noon
    assert timing.out_of_quiet_hours(day, prefs) == day
