"""Reminders at the user's offsets: deadlines of saved opportunities (N calendar days before,
at the deadline's local time of day in the user's zone — so across a DST change "1 day
before" is 23 or 25 hours) and events the user RSVPed to (N minutes before the start).

Each (user, item, offset) is one `Reminder`, a unit of due work claimed by one conditional
update; its notification is keyed by (item, offset, target time), so a duplicate sweep or a
retry notifies once, and a moved deadline re-arms the reminder for the new date. `sync`
keeps the units in line with what the user follows and their preferences; it is called when
they save/RSVP, change preferences, and when the item's dates or status change.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.config import Settings
from app.models.base import utcnow
from app.models.catalogue import ItemStatus
from app.models.event import Event
from app.models.interaction import OpportunityInteraction, Rsvp
from app.models.notification import Reason, Subject
from app.models.opportunity import Opportunity
from app.models.preferences import NotificationPreferences
from app.models.reminder import Reminder, ReminderKind
from app.services.notifications import Draft, notify, preferences
from app.services.notifications.timing import days_before, local_date, local_datetime
from app.tasks.claims import Claim

log = structlog.get_logger("app.notifications")

# A reminder whose moment passed longer ago than this is not sent late (saving an item two
# days before its deadline does not send the "14 days before" reminder).
GRACE = timedelta(hours=1)
KIND_OF_ITEM: dict[str, ReminderKind] = {"opportunity": "deadline", "event": "event"}
PLURAL = {"opportunity": "opportunities", "event": "events"}


async def _target(kind: ReminderKind, item_id: PydanticObjectId) -> datetime | None:
    """The deadline or start to count back from, while the item is public and dated."""
    if kind == "deadline":
        opp = await Opportunity.get(item_id)
        if opp is None or opp.status is not ItemStatus.published or opp.deadline is None:
            return None
        return opp.deadline
    event = await Event.get(item_id)
    if event is None or event.status is not ItemStatus.published:
        return None
    return event.start_at


async def _follows(
    kind: ReminderKind, user_id: PydanticObjectId, item_id: PydanticObjectId
) -> bool:
    if kind == "deadline":
        row = await OpportunityInteraction.find_one(
            {"user_id": user_id, "opportunity_id": item_id, "saved": True}
        )
    else:
        row = await Rsvp.find_one({"user_id": user_id, "event_id": item_id})
    return row is not None


def moment(
    kind: ReminderKind, target: datetime, offset: int, prefs: NotificationPreferences
) -> datetime:
    if kind == "deadline":
        return days_before(target, offset, ZoneInfo(prefs.timezone))
    return target - timedelta(minutes=offset)


def offsets(kind: ReminderKind, prefs: NotificationPreferences) -> list[int]:
    return list(
        prefs.deadline_reminder_days if kind == "deadline" else prefs.event_reminder_minutes
    )


async def sync(
    user_id: PydanticObjectId,
    kind: ReminderKind,
    item_id: PydanticObjectId,
    prefs: NotificationPreferences | None = None,
) -> None:
    """Make the user's reminders for this item match what they follow and prefer."""
    collection = Reminder.get_motor_collection()
    target = await _target(kind, item_id)
    if target is None or not await _follows(kind, user_id, item_id):
        await collection.delete_many({"user_id": user_id, "item_id": item_id, "kind": kind})
        return
    prefs = prefs or await preferences.get(user_id)
    wanted = offsets(kind, prefs)
    await collection.delete_many(
        {"user_id": user_id, "item_id": item_id, "kind": kind, "offset": {"$nin": wanted}}
    )
    now = utcnow()
    for offset in wanted:
        at = moment(kind, target, offset, prefs)
        key = {"user_id": user_id, "item_id": item_id, "kind": kind, "offset": offset}
        due: datetime | None = at if at > now - GRACE else None
        with contextlib.suppress(DuplicateKeyError):  # being sent now: the next sync re-arms
            await collection.update_one(
                {**key, "claim_token": None},
                {
                    "$set": {"target_at": target, "due_at": due},
                    "$setOnInsert": {"sent_for": None, "claim_until": None, "claim_attempts": 0},
                },
                upsert=True,
            )
        # already sent for this very target: never again
        await collection.update_one(
            {**key, "sent_for": target, "claim_token": None}, {"$set": {"due_at": None}}
        )


async def followers(kind: ReminderKind, item_id: PydanticObjectId) -> list[PydanticObjectId]:
    if kind == "deadline":
        cursor = OpportunityInteraction.get_motor_collection().find(
            {"opportunity_id": item_id, "saved": True}, {"user_id": 1}
        )
    else:
        cursor = Rsvp.get_motor_collection().find({"event_id": item_id}, {"user_id": 1})
    return [PydanticObjectId(d["user_id"]) async for d in cursor]


async def resync_item(item_kind: str, item_id: str) -> None:
    """The item's dates or status changed: every follower's reminders follow."""
    kind = KIND_OF_ITEM[item_kind]
    oid = PydanticObjectId(item_id)
    users = await followers(kind, oid)
    prefs = await preferences.get_many(users)
    for user_id in users:
        await sync(user_id, kind, oid, prefs[user_id])
    if not users:
        await Reminder.get_motor_collection().delete_many({"item_id": oid, "kind": kind})


async def resync_user(user_id: PydanticObjectId) -> None:
    """Offsets or time zone changed: every followed item's reminders follow."""
    prefs = await preferences.get(user_id)
    saved = OpportunityInteraction.get_motor_collection().find(
        {"user_id": user_id, "saved": True}, {"opportunity_id": 1}
    )
    async for row in saved:
        await sync(user_id, "deadline", PydanticObjectId(row["opportunity_id"]), prefs)
    async for row in Rsvp.get_motor_collection().find({"user_id": user_id}, {"event_id": 1}):
        await sync(user_id, "event", PydanticObjectId(row["event_id"]), prefs)


def _in_words(kind: ReminderKind, offset: int) -> str:
    if kind == "deadline":
        return "tomorrow" if offset == 1 else f"in {offset} days"
    if offset % 1440 == 0:
        days = offset // 1440
        return "tomorrow" if days == 1 else f"in {days} days"
    if offset % 60 == 0:
        hours = offset // 60
        return f"in {hours} hour{'s' if hours != 1 else ''}"
    return f"in {offset} minutes"


async def send(settings: Settings, claim: Claim) -> None:
    """The claimed reminder's notification, if the item still stands as it was."""
    unit: dict[str, Any] = dict(claim.document)
    kind: ReminderKind = unit["kind"]
    user_id, item_id = PydanticObjectId(unit["user_id"]), PydanticObjectId(unit["item_id"])
    target = await _target(kind, item_id)
    if target is None or target != unit["target_at"] or not await _follows(kind, user_id, item_id):
        return  # changed meanwhile: `sync` re-arms it for the new target, if any
    if target <= utcnow():
        return  # too late to remind (the sweep was down): nothing useful to say
    prefs = await preferences.get(user_id)
    model = Opportunity if kind == "deadline" else Event
    item = await model.get(item_id)
    assert item is not None  # noqa: S101 - _target found it
    when = _in_words(kind, unit["offset"])
    item_kind = "opportunity" if kind == "deadline" else "event"
    if kind == "deadline":
        title = f"Deadline {when}: {item.title}"
        body = f"Applications for “{item.title}” close on {local_date(target, prefs.timezone)}."
    else:
        title = f"Starts {when}: {item.title}"
        body = f"“{item.title}” starts on {local_datetime(target, prefs.timezone)}."
    draft = Draft(
        category="deadline_reminder" if kind == "deadline" else "event_reminder",
        event=f"{kind}_reminder",
        dedupe_key=f"reminder:{item_kind}:{item_id}:{unit['offset']}:{target.isoformat()}",
        title=title,
        body=body,
        subject=Subject(kind=item_kind, id=str(item_id), title=item.title),
        reason=Reason(
            type="saved_item" if kind == "deadline" else "rsvp",
            id=str(item_id),
            label=item.title,
            preference="deadline_reminder" if kind == "deadline" else "event_reminder",
        ),
        link=f"{settings.frontend_url}/{PLURAL[item_kind]}/{item.slug}",
        template="deadline_reminder" if kind == "deadline" else "event_reminder",
        context={"item_id": str(item_id)},
    )
    await notify(user_id, draft, prefs)
    await Reminder.get_motor_collection().update_one(
        {"_id": claim.id, "claim_token": claim.token}, {"$set": {"sent_for": target}}
    )
