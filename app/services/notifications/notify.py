"""`notify(...)`: the one way anything reaches a user. Every producer (saved-search matches,
changes to saved items, reminders, RSVPs, moderation, invitations, announcements, account
security) calls it; it applies the user's preferences and is idempotent per (user, key).

- in-app: `off` keeps it out of the inbox; `instant` also pushes it to open streams;
  `daily`/`weekly` put it in the inbox quietly.
- e-mail: `instant` makes the notification a unit of due work (`due_at`: now, or when the
  user's quiet hours end) that the worker claims and mails; `daily`/`weekly` leave it
  pending for the user's digest; `off` sends nothing.
- an item the user dismissed never reaches them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.models.base import utcnow
from app.models.notification import (
    Category,
    ChangeNote,
    DigestSchedule,
    Notification,
    Reason,
    Subject,
)
from app.models.preferences import NotificationPreferences
from app.schemas.notification import NotificationRead
from app.services import dismissals
from app.services.notifications import preferences, stream, timing

log = structlog.get_logger("app.notifications")


@dataclass(slots=True)
class Draft:
    """A notification before the recipient's preferences are applied."""

    category: Category
    event: str
    dedupe_key: str
    title: str
    subject: Subject
    reason: Reason
    body: str = ""
    link: str | None = None
    changes: Sequence[ChangeNote] = ()
    template: str = "notification"
    context: dict[str, Any] = field(default_factory=dict)
    email_override: str | None = None  # e.g. a saved search's own alert frequency
    email_allowed: bool = True  # False when the e-mail already went another way


def _item_of(draft: Draft) -> tuple[str, PydanticObjectId] | None:
    subject = draft.subject
    if subject.kind in ("opportunity", "event") and subject.id:
        return subject.kind, PydanticObjectId(subject.id)
    return None


def _channels(draft: Draft, prefs: NotificationPreferences) -> tuple[str, str]:
    in_app = preferences.frequency(prefs, draft.category, "in_app")
    mail = preferences.frequency(prefs, draft.category, "email")
    if draft.email_override is not None and draft.category not in preferences.LOCKED:
        mail = draft.email_override
    if not draft.email_allowed:
        mail = "off"
    return in_app, mail


async def notify(
    user_id: PydanticObjectId, draft: Draft, prefs: NotificationPreferences | None = None
) -> Notification | None:
    """Create the user's notification for `draft` once. None when preferences or a
    dismissal leave nothing to do, or when it exists already (a duplicate run)."""
    prefs = prefs or await preferences.get(user_id)
    item = _item_of(draft)
    if item is not None and await dismissals.dismissed_ids(user_id, item[0], [item[1]]):
        return None
    in_app, mail = _channels(draft, prefs)
    if in_app == "off" and mail == "off":
        return None
    now = utcnow()
    doc = Notification(
        user_id=user_id,
        category=draft.category,
        event=draft.event,
        title=draft.title,
        body=draft.body,
        subject=draft.subject,
        reason=draft.reason,
        changes=list(draft.changes),
        link=draft.link,
        dedupe_key=draft.dedupe_key,
        in_app=in_app != "off",
        email="none" if mail == "off" else mail,
        email_state="none" if mail == "off" else "pending",
        template=draft.template,
        context=draft.context,
        created_at=now,
        due_at=timing.out_of_quiet_hours(now, prefs) if mail == "instant" else None,
    )
    try:
        await doc.insert()
    except DuplicateKeyError:
        return None
    log.info(
        "notification_created",
        notification_id=str(doc.id),
        user_id=str(user_id),
        category=draft.category,
    )
    if in_app == "instant":
        await stream.publish(str(user_id), stream_message(doc))
    if mail == "instant":
        await _mail_soon(doc)
    elif mail in ("daily", "weekly"):
        await schedule_digest(user_id, prefs)
    return doc


def stream_message(doc: Notification) -> dict[str, Any]:
    return {"id": str(doc.id), "data": NotificationRead.from_doc(doc).model_dump(mode="json")}


async def _mail_soon(doc: Notification) -> None:
    """Hand an instant e-mail to the worker at once (the per-minute sweep is the safety net:
    it also sends what waited for quiet hours to end)."""
    if doc.due_at is None or doc.due_at > utcnow():
        return
    from app.tasks import notifications as tasks  # the task module imports this one

    await tasks.enqueue_email(str(doc.id))


async def schedule_digest(user_id: PydanticObjectId, prefs: NotificationPreferences) -> None:
    """Make sure the user's digest is due at their next digest time (one conditional write:
    an already scheduled or claimed digest is left alone)."""
    due = timing.next_digest_at(utcnow(), prefs)
    collection = DigestSchedule.get_motor_collection()
    try:
        await collection.update_one(
            {"_id": user_id, "due_at": None},
            {"$set": {"due_at": due, "updated_at": utcnow()}},
            upsert=True,
        )
    except DuplicateKeyError:
        return  # it exists and is already due: nothing to do


async def reschedule_digest(user_id: PydanticObjectId, prefs: NotificationPreferences) -> None:
    """The digest time or zone changed: an unclaimed pending digest moves to the new time."""
    await DigestSchedule.get_motor_collection().update_one(
        {"_id": user_id, "due_at": {"$ne": None}, "claim_token": None},
        {"$set": {"due_at": timing.next_digest_at(utcnow(), prefs), "updated_at": utcnow()}},
    )
