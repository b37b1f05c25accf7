"""E-mail for notifications, run by the worker: the instant e-mail of one notification, and
the user's digest (everything pending for it, once per period). Both leave through the
e-mail service (`app.email.send`: SMTP or the outbox), keyed so a retry sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from beanie import PydanticObjectId, SortDirection

from app import email
from app.core.config import Settings
from app.models.base import utcnow
from app.models.catalogue import ItemStatus
from app.models.event import Event
from app.models.notification import DigestRecord, DigestSchedule, Notification
from app.models.opportunity import Opportunity
from app.models.user import User
from app.services import dismissals
from app.services.notifications import preferences, timing
from app.services.notifications.notify import schedule_digest
from app.tasks.claims import Claim

log = structlog.get_logger("app.notifications")
ASC = SortDirection.ASCENDING


async def _recipient(user_id: PydanticObjectId) -> User | None:
    user = await User.get(user_id)
    return user if user is not None and user.is_active else None


# News of an item that only makes sense while it is public ("a new match for your search"):
# withdrawn by the time its e-mail leaves (quiet hours, a digest the next morning), it is
# not sent. Notices about items the user follows (changed, cancelled, reminders) still go.
WHILE_PUBLIC = frozenset({"saved_search_match"})
MODELS: dict[str, type[Opportunity] | type[Event]] = {"opportunity": Opportunity, "event": Event}


async def _withheld(doc: Notification) -> bool:
    """Not to be e-mailed: the user dismissed its item, or it is news of an item that is
    no longer public (`WHILE_PUBLIC`)."""
    subject = doc.subject
    if subject.kind not in MODELS or not subject.id:
        return False
    item = PydanticObjectId(subject.id)
    if doc.category in WHILE_PUBLIC:
        found = (
            await MODELS[subject.kind]
            .get_motor_collection()
            .find_one({"_id": item, "status": ItemStatus.published.value}, {"_id": 1})
        )
        if found is None:
            return True
    return bool(await dismissals.dismissed_ids(doc.user_id, subject.kind, [item]))


async def send_instant(settings: Settings, claim: Claim) -> None:
    """The instant e-mail of the claimed notification (once: keyed by its id)."""
    doc = Notification.model_validate(claim.document)
    user = await _recipient(doc.user_id)
    collection = Notification.get_motor_collection()
    if user is None or await _withheld(doc):
        await collection.update_one({"_id": doc.id}, {"$set": {"email_state": "skipped"}})
        return
    from app.services.notifications import emails  # templates and their context

    message = await emails.for_notification(settings, user, doc)
    with email.job_context(f"notification:{doc.id}"):
        await email.send_message(
            settings,
            user.email,
            message.subject,
            message.template,
            message.context,
            headers=message.headers,
            attachments=message.attachments,
        )
    await collection.update_one(
        {"_id": doc.id}, {"$set": {"email_state": "sent", "emailed_at": utcnow()}}
    )


def _wanted(period: datetime, prefs: Any) -> list[str]:
    return ["daily", "weekly"] if timing.is_weekly_day(period, prefs) else ["daily"]


async def send_digest(settings: Settings, claim: Claim) -> datetime | None:
    """One digest per (user, period): what is pending for it, minus dismissed items; never
    empty. The record of what it holds is written first, so a retry sends the same, once."""
    user_id = PydanticObjectId(claim.id)
    prefs = await preferences.get(user_id)
    period = claim.due_at
    record = await DigestRecord.find_one({"user_id": user_id, "period": claim.period})
    if record is None:
        pending = (
            await Notification.find(
                {
                    "user_id": user_id,
                    "email_state": "pending",
                    "email": {"$in": _wanted(period, prefs)},
                    "created_at": {"$lte": max(period, utcnow())},
                }
            )
            .sort([("created_at", ASC), ("_id", ASC)])
            .to_list()
        )
        keep = [n for n in pending if not await _withheld(n)]
        dropped = [n.id for n in pending if n not in keep]
        if dropped:
            await Notification.get_motor_collection().update_many(
                {"_id": {"$in": dropped}}, {"$set": {"email_state": "skipped"}}
            )
        if keep:
            record = DigestRecord(
                user_id=user_id, period=claim.period, notification_ids=[n.id for n in keep]
            )
            try:
                await record.insert()
            except Exception:
                record = await DigestRecord.find_one({"user_id": user_id, "period": claim.period})
    if record is not None and record.sent_at is None:
        await _mail_digest(settings, user_id, record)
    return await _next_digest(user_id, prefs, period)


async def _mail_digest(settings: Settings, user_id: PydanticObjectId, record: DigestRecord) -> None:
    items = (
        await Notification.find({"_id": {"$in": record.notification_ids}})
        .sort([("created_at", ASC), ("_id", ASC)])
        .to_list()
    )
    user = await _recipient(user_id)
    collection = Notification.get_motor_collection()
    if user is not None and items:
        from app.services.notifications import emails

        message = await emails.for_digest(settings, user, items)
        with email.job_context(f"digest:{user_id}:{record.period}"):
            await email.send_message(
                settings,
                user.email,
                message.subject,
                message.template,
                message.context,
                headers=message.headers,
            )
    now = utcnow()
    await collection.update_many(
        {"_id": {"$in": record.notification_ids}, "email_state": "pending"},
        {"$set": {"email_state": "sent" if user else "skipped", "emailed_at": now}},
    )
    await DigestRecord.get_motor_collection().update_one(
        {"_id": record.id}, {"$set": {"sent_at": now}}
    )
    log.info("digest_sent", user_id=str(user_id), items=len(items))


async def _next_digest(user_id: PydanticObjectId, prefs: Any, period: datetime) -> datetime | None:
    """Due again at the next digest time while anything is still pending (weekly items on
    other days), otherwise not due until `notify` schedules it again."""
    left = await Notification.get_motor_collection().count_documents(
        {"user_id": user_id, "email_state": "pending", "email": {"$in": ["daily", "weekly"]}}
    )
    if not left:
        return None
    return timing.next_digest_at(max(period, utcnow()), prefs)


async def after_digest(user_id: PydanticObjectId) -> None:
    """A notification created while the digest was being sent may have found it claimed:
    schedule it again if anything is pending now (the sweep calls this after completing)."""
    left = await Notification.get_motor_collection().count_documents(
        {"user_id": user_id, "email_state": "pending", "email": {"$in": ["daily", "weekly"]}}
    )
    if left:
        await schedule_digest(user_id, await preferences.get(user_id))


__all__ = ["DigestSchedule", "after_digest", "send_digest", "send_instant"]
