"""Fan-outs after catalogue changes (enqueued by `services/item_changes.py`): percolation
against saved searches, field-level notes to savers, moderation outcomes; and the reminder
sweep. Every effect is a notification unique per (user, key), so a retried or duplicated
task notifies nobody twice."""

from __future__ import annotations

from typing import Any

import structlog
from taskiq.decor import AsyncTaskiqDecoratedTask
from taskiq.exceptions import SendTaskError

from app.core.config import Settings
from app.models.reminder import Reminder
from app.services import item_followers
from app.services.saved_searches import fanout
from app.tasks import runtime
from app.tasks.claims import Claim, DueQueue
from app.tasks.registry import every, task

log = structlog.get_logger("app.notifications")


def _settings() -> Settings:
    active = runtime.current()
    if active is None:  # pragma: no cover - tasks only run inside a runtime
        raise RuntimeError("no task runtime")
    return active.settings


async def enqueue(job: AsyncTaskiqDecoratedTask[Any, Any], **kwargs: Any) -> None:
    """Enqueue and move on. Outside a running app (scripts) nothing is enqueued. If the
    broker is unreachable the change itself stands; the follow-up is logged as lost."""
    if runtime.current() is None:
        return
    try:
        await job.kiq(**kwargs)
    except SendTaskError as exc:
        log.error("alert_enqueue_failed", task=job.task_name, error=type(exc.__cause__).__name__)


@task("alerts.percolate")
async def percolate(kind: str, item_id: str) -> None:
    await fanout.percolate(_settings(), kind, item_id)  # type: ignore[arg-type]


@task("alerts.item_changed")
async def item_changed(
    kind: str, item_id: str, version: int, changes: list[dict[str, Any]]
) -> None:
    await item_followers.notify_savers(_settings(), kind, item_id, version, changes)
    from app.services import reminders

    await reminders.resync_item(kind, item_id)


@task("alerts.moderation_outcome")
async def moderation_outcome(
    kind: str,
    item_id: str,
    outcome: str,
    version: int,
    reason: str | None = None,
    actor_id: str | None = None,
) -> None:
    await item_followers.notify_members(
        _settings(), kind, item_id, outcome, version, reason, actor_id
    )


async def _remind(claim: Claim) -> None:
    from app.services import reminders

    await reminders.send(_settings(), claim)


@task("alerts.reminders.sweep")
async def sweep_reminders() -> None:
    """Reminders whose moment has come (claimed one by one in the database)."""
    await DueQueue(Reminder.get_motor_collection()).sweep(_remind, limit=1000)


every("alerts.reminders.each-minute", sweep_reminders, cron="* * * * *")


@task("alerts.announce")
async def announce(announcement_id: str) -> None:
    """Fan an admin announcement out to its segment (resumable, once per user)."""
    from app.services import announcements

    await announcements.fan_out(announcement_id)


@task("alerts.invitation")
async def invitation(invitation_id: str) -> None:
    """An organisation invited an address: its confirmed account (if any) sees it in-app."""
    from app.services import account_notices

    await account_notices.invitation(_settings(), invitation_id)
