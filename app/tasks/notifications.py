"""Notification tasks: instant e-mails and digests (due work claimed in MongoDB), and the
fan-outs (saved-search percolation, changes to saved items, moderation outcomes,
invitations, announcements) that call `services.notifications.notify`.

Every task may run twice: notifications are unique per (user, key), e-mails are keyed by
notification or by (user, digest period), and due work is claimed by one conditional update.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from beanie import PydanticObjectId
from taskiq.exceptions import SendTaskError

from app.core.config import Settings
from app.models.notification import DigestSchedule, Notification
from app.services.notifications import mailing
from app.tasks import runtime
from app.tasks.claims import Claim, DueQueue
from app.tasks.registry import every, task

log = structlog.get_logger("app.notifications")


def _settings() -> Settings:
    active = runtime.current()
    if active is None:  # pragma: no cover - tasks only run inside a runtime
        raise RuntimeError("no task runtime")
    return active.settings


def email_queue(notification_id: str | None = None) -> DueQueue:
    where = {"_id": PydanticObjectId(notification_id)} if notification_id else None
    return DueQueue(Notification.get_motor_collection(), where=where)


async def _send(claim: Claim) -> None:
    await mailing.send_instant(_settings(), claim)


@task("notifications.email")
async def email_notification(notification_id: str) -> None:
    """Send one notification's instant e-mail now, if it is due and unclaimed."""
    await email_queue(notification_id).sweep(_send, limit=1)


@task("notifications.email.sweep")
async def sweep_emails() -> None:
    """Instant e-mails that waited for quiet hours, or whose task was lost."""
    await email_queue().sweep(_send, limit=500)


async def _digest(claim: Claim) -> datetime | None:
    return await mailing.send_digest(_settings(), claim)


@task("notifications.digests.sweep")
async def sweep_digests() -> None:
    result = await DueQueue(DigestSchedule.get_motor_collection()).sweep(_digest, limit=500)
    for user_id in result.claimed_ids:
        await mailing.after_digest(PydanticObjectId(user_id))


async def enqueue_email(notification_id: str) -> None:
    try:
        await email_notification.kiq(notification_id=notification_id)
    except SendTaskError as exc:  # the sweep sends it within a minute
        log.warning("notification_enqueue_failed", error=type(exc.__cause__).__name__)


every("notifications.email.each-minute", sweep_emails, cron="* * * * *")
every("notifications.digests.each-minute", sweep_digests, cron="* * * * *")
