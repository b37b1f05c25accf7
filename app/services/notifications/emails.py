"""What each notification e-mail says: template, subject and values for one notification or
a digest, the reason the user gets it, the one-click unsubscribe (footer link and RFC 8058
headers, scoped to the category, the saved search, or digests), and an event reminder's
`.ics` attachment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from beanie import PydanticObjectId

from app.core.config import Settings
from app.email import Attachment
from app.models.event import Event
from app.models.interaction import Rsvp, RsvpStatus
from app.models.notification import Notification
from app.models.user import User
from app.services.notifications import unsubscribe

REASONS = {
    "saved_search": "you saved the search “{label}” with e-mail alerts",
    "saved_item": "you saved “{label}”",
    "rsvp": "you RSVPed to “{label}”",
    "membership": "you are a member of {label}",
    "invitation": "{label} invited you",
    "announcement": "you chose to receive RunWei announcements",
    "account": "it concerns the security of your account",
}


@dataclass(slots=True)
class Mail:
    subject: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)


def reason_text(doc: Notification) -> str:
    return REASONS.get(doc.reason.type, "of your notification settings").format(
        label=doc.reason.label
    )


def entry(doc: Notification) -> dict[str, Any]:
    return {
        "title": doc.title,
        "body": doc.body,
        "link": doc.link,
        "category": doc.category,
        "changes": [c.model_dump() for c in doc.changes],
    }


def _token(settings: Settings, doc: Notification) -> str | None:
    if doc.reason.type == "saved_search" and doc.reason.id:
        return unsubscribe.token_for_search(settings, doc.user_id, doc.reason.id)
    return unsubscribe.token_for_category(settings, doc.user_id, doc.category)


async def _ics(settings: Settings, doc: Notification) -> list[Attachment]:
    if doc.template != "event_reminder" or not doc.subject.id:
        return []
    from app.services.events.calendar import event_ics

    event = await Event.get(PydanticObjectId(doc.subject.id))
    if event is None:
        return []
    going = await Rsvp.find_one(
        {"event_id": event.id, "user_id": doc.user_id, "status": RsvpStatus.going.value}
    )
    content = event_ics(event, settings.public_base_url, show_link=going is not None)
    return [Attachment(f"{event.slug}.ics", "text/calendar", content)]


async def for_notification(settings: Settings, user: User, doc: Notification) -> Mail:
    context: dict[str, Any] = {
        "full_name": user.full_name,
        **entry(doc),
        "search_name": "",
        **doc.context,
        "reason": reason_text(doc),
        "unsubscribe_url": None,
    }
    headers: dict[str, str] = {}
    token = _token(settings, doc)
    if token is not None:
        context["unsubscribe_url"], headers = unsubscribe.links(settings, token)
    return Mail(doc.title, doc.template, context, headers, await _ics(settings, doc))


async def for_digest(settings: Settings, user: User, items: list[Notification]) -> Mail:
    assert user.id is not None  # noqa: S101 - a stored user
    page, headers = unsubscribe.links(settings, unsubscribe.token_for_digest(settings, user.id))
    return Mail(
        subject=f"Your RunWei digest: {len(items)} update{'s' if len(items) != 1 else ''}",
        template="digest",
        context={
            "full_name": user.full_name,
            "entries": [entry(n) for n in items],
            "reason": "you chose daily or weekly digests for some notifications",
            "unsubscribe_url": page,
        },
        headers=headers,
    )
