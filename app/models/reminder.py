"""Reminders: one unit of due work per (user, item, offset) — "3 days before the deadline of
an opportunity you saved", "1 hour before an event you RSVPed to"."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import Document, PydanticObjectId
from pymongo import IndexModel

from app.models.task import DUE_WORK_INDEX, DueWork

ReminderKind = Literal["deadline", "event"]


class Reminder(Document, DueWork):
    user_id: PydanticObjectId
    kind: ReminderKind
    item_id: PydanticObjectId
    offset: int  # days before a deadline (local calendar days), minutes before an event
    target_at: datetime  # the deadline or start it counts back from
    sent_for: datetime | None = None  # the target it was last sent for (a moved one re-arms)

    class Settings:
        name = "reminders"
        indexes = [
            IndexModel([("user_id", 1), ("item_id", 1), ("kind", 1), ("offset", 1)], unique=True, name="one_per_offset"),
            IndexModel([("item_id", 1)], name="item"),
            DUE_WORK_INDEX,
        ]  # fmt: skip
