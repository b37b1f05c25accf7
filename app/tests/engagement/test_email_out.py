"""Notification e-mail: HTML (one layout, CSS inlined) and text parts, the reason and a
one-click unsubscribe (RFC 8058) scoped to one category or saved search — GET previews,
POST unsubscribes —, an event reminder's .ics, and admin previews of every template."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from app.models.reminder import Reminder
from app.services.email_previews import SAMPLES
from app.tasks.alerts import _remind
from app.tasks.claims import DueQueue
from app.tests.engagement.helpers import API, give, outbox
from app.tests.errors import assert_error
from app.tests.factories import make_event, make_org
from app.tests.net import Inbox, free_port

PREFS = f"{API}/me/notification-preferences"


def token_of(mail) -> str:
    match = re.search(r"token=([A-Za-z0-9_.-]+)>", mail.headers["List-Unsubscribe"])
    assert match, mail.headers
    return match.group(1)


async def test_a_notification_mail_has_both_parts_the_reason_and_one_click_unsubscribe(
    client, entrepreneur
):
    await give(
        entrepreneur, "moderation", title="Approved and published: Solar grant", body="Well done."
    )
    (mail,) = await outbox(entrepreneur.email)
    assert "Approved and published: Solar grant" in mail.body
    assert (
        "You get this e-mail because your account" in mail.body
        or "You get this e-mail because" in mail.body
    )
    assert mail.html is not None
    assert "<style" not in mail.html  # inlined into style attributes
    assert 'style="' in mail.html
    assert "Approved and published: Solar grant" in mail.html
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.headers["List-Unsubscribe"].startswith(
        "<http://127.0.0.1:8000/api/v1/unsubscribe?token="
    )
    token = token_of(mail)
    assert f"/unsubscribe?token={token}" in mail.body  # the footer link

    preview = await client.get(f"{API}/unsubscribe", params={"token": token})
    assert preview.status_code == 200, preview.text
    assert preview.json() == {
        "scope": "category",
        "category": "moderation",
        "saved_search_id": None,
        "saved_search_name": None,
        "unsubscribed": False,
    }
    prefs = (await client.get(PREFS, headers=entrepreneur.headers)).json()
    assert prefs["channels"]["moderation"]["email"] == "instant"  # GET changed nothing
    for _ in range(2):  # idempotent
        done = await client.post(
            f"{API}/unsubscribe", params={"token": token}, data={"List-Unsubscribe": "One-Click"}
        )
        assert done.status_code == 200, done.text
        assert done.json()["unsubscribed"] is True
    prefs = (await client.get(PREFS, headers=entrepreneur.headers)).json()
    assert prefs["channels"]["moderation"] == {"in_app": "instant", "email": "off"}
    assert prefs["channels"]["rsvp"]["email"] == "instant"  # only that category
    await give(entrepreneur, "moderation", title="Another one")
    assert len(await outbox(entrepreneur.email)) == 1


async def test_bad_tokens_and_locked_categories(client, entrepreneur, settings):
    for token in (
        "x" * 20,
        "abc.def.ghi-jkl",
        "eyJ1IjoiMSJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ):
        assert_error(
            await client.get(f"{API}/unsubscribe", params={"token": token}),
            422,
            "INVALID_UNSUBSCRIBE_TOKEN",
        )
        assert_error(
            await client.post(f"{API}/unsubscribe", params={"token": token}),
            422,
            "INVALID_UNSUBSCRIBE_TOKEN",
        )
    assert_error(await client.get(f"{API}/unsubscribe"), 422, "VALIDATION_ERROR")
    # a token signed for another purpose is refused
    from app.core.signing import sign

    foreign = sign(settings, "other", {"u": entrepreneur.id, "c": "rsvp"})
    assert_error(
        await client.post(f"{API}/unsubscribe", params={"token": foreign}),
        422,
        "INVALID_UNSUBSCRIBE_TOKEN",
    )
    # account security mail has no unsubscribe at all, and a forged scope is refused
    await give(entrepreneur, "account_security", title="Your password was changed")
    (mail,) = await outbox(entrepreneur.email)
    assert "List-Unsubscribe" not in mail.headers
    forged = sign(settings, "unsubscribe", {"u": entrepreneur.id, "c": "account_security"})
    assert_error(
        await client.post(f"{API}/unsubscribe", params={"token": forged}),
        422,
        "INVALID_UNSUBSCRIBE_TOKEN",
    )


async def test_a_saved_search_alert_unsubscribes_that_search_only(
    client, entrepreneur, partner, staff
):
    from app.email import drain
    from app.tests.factories import make_opportunity

    search = await client.post(
        f"{API}/me/saved-searches",
        headers=entrepreneur.headers,
        json={"name": "Wind", "kind": "opportunity", "query": {"q": "wind"}, "alert": "instant"},
    )
    org = await make_org(client, partner)
    await make_opportunity(
        client, partner, org["id"], publish_as=staff, title="Wind turbines grant"
    )
    await drain()
    (mail,) = await outbox(entrepreneur.email, template="saved_search_alert")
    assert "saved search “Wind”" in mail.body
    token = token_of(mail)
    preview = (await client.get(f"{API}/unsubscribe", params={"token": token})).json()
    assert (preview["scope"], preview["saved_search_name"]) == ("saved_search", "Wind")
    await client.post(f"{API}/unsubscribe", params={"token": token})
    read = await client.get(
        f"{API}/me/saved-searches/{search.json()['id']}", headers=entrepreneur.headers
    )
    assert read.json()["alert"] == "off"


async def test_an_event_reminder_carries_the_ics(client, partner, staff, entrepreneur):
    org = await make_org(client, partner)
    event = await make_event(client, partner, org["id"], publish_as=staff)
    await client.put(f"{API}/events/{event['id']}/rsvp", headers=entrepreneur.headers, json={})
    reminder = await Reminder.find_one({"offset": 60})
    assert reminder is not None
    assert reminder.due_at is not None
    at = reminder.due_at + timedelta(seconds=1)
    await DueQueue(Reminder.get_motor_collection()).sweep(_remind, now=lambda: at)
    mails = await outbox(entrepreneur.email, template="event_reminder")
    assert sorted(m.subject.split(":")[0] for m in mails) == ["Starts in 1 hour", "Starts tomorrow"]
    (ics,) = mails[0].attachments
    assert ics.content_type == "text/calendar"
    assert ics.filename.endswith(".ics")
    assert "BEGIN:VCALENDAR" in ics.content
    assert f"UID:{event['id']}@runwei" in ics.content
    assert "meet.example.org/secret-room" in ics.content  # going: the online link is theirs


@pytest.mark.parametrize("name", sorted(SAMPLES))
async def test_admins_preview_every_template(client, admin, name):
    response = await client.get(
        f"{API}/admin/email-templates/{name}/preview", headers=admin.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subject"]
    assert body["text"]
    assert body["html"]
    assert "<style" not in body["html"]


async def test_previews_are_for_admins_and_known_templates(client, admin, staff):
    assert_error(
        await client.get(f"{API}/admin/email-templates/digest/preview", headers=staff.headers),
        403,
        "INSUFFICIENT_ROLE",
    )
    assert_error(
        await client.get(f"{API}/admin/email-templates/nonsense/preview", headers=admin.headers),
        422,
        "VALIDATION_ERROR",
    )


SMTP_PORT = free_port()


@pytest.fixture
def smtp_inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield handler
    controller.stop()


@pytest.mark.parametrize(
    "settings_overrides",
    [{"smtp_host": "127.0.0.1", "smtp_port": SMTP_PORT, "smtp_starttls": False}],
)
async def test_over_smtp_the_message_is_multipart_with_the_one_click_headers(
    client, entrepreneur, smtp_inbox
):
    await give(entrepreneur, "rsvp", title="You're going: Founders' Breakfast")
    from app.email import drain

    await drain()
    for _ in range(100):
        if smtp_inbox.messages:
            break
        await asyncio.sleep(0.05)
    (envelope,) = smtp_inbox.messages
    raw = envelope.content.decode()
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert re.search(r"List-Unsubscribe:\s+<http://127.0.0.1:8000/api/v1/unsubscribe\?token=", raw)
    assert "multipart/alternative" in raw
    assert "text/html" in raw
