"""Notifications: the in-app inbox, the e-mail each one may carry (now or in a digest), and
the per-user digest schedule.

Every producer goes through `services.notifications.notify`, which inserts a notification
under the unique key (user, dedupe key): a producer that runs twice (a retried task, two
sweeps) produces it once. A notification that e-mails at once is also a unit of due work
(`DueWork`: `due_at` is when its e-mail may leave — now, or when the user's quiet hours
end), claimed by one conditional update; one that goes into a digest waits with
`email_state="pending"` until the user's `DigestSchedule` comes due.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from app.models.base import utcnow
from app.models.task import DUE_WORK_INDEX, DueWork

Category = Literal[
    "saved_search_match",
    "saved_item_changed",
    "deadline_reminder",
    "event_reminder",
    "rsvp",
    "moderation",
    "organisation",
    "announcement",
    "account_security",
]
CATEGORIES: tuple[Category, ...] = (
    "saved_search_match",
    "saved_item_changed",
    "deadline_reminder",
    "event_reminder",
    "rsvp",
    "moderation",
    "organisation",
    "announcement",
    "account_security",
)
Frequency = Literal["instant", "daily", "weekly", "off"]
Channel = Literal["in_app", "email"]
InboxState = Literal["unread", "read", "archived"]
EmailMode = Literal["none", "instant", "daily", "weekly"]
EmailState = Literal["none", "pending", "sent", "skipped"]
SubjectKind = Literal[
    "opportunity", "event", "organisation", "saved_search", "announcement", "account"
]
ReasonType = Literal[
    "saved_search", "saved_item", "rsvp", "membership", "invitation", "announcement", "account"
]


class Subject(BaseModel):
    """What the notification is about."""

    kind: SubjectKind
    id: str | None = None
    title: str = ""


class Reason(BaseModel):
    """Why this user got it: which saved search, which saved item, which preference."""

    type: ReasonType
    id: str | None = None
    label: str = ""
    preference: Category  # the preference (category) that let it through


class ChangeNote(BaseModel):
    """One field-level change, as the reader sees it ("deadline: 1 March 2027 → 15 March 2027")."""

    field: str
    before: str | None
    after: str | None


class Notification(Document, DueWork):
    user_id: PydanticObjectId
    category: Category
    event: str  # what happened, within the category (e.g. "waitlist_promoted")
    title: str
    body: str = ""
    subject: Subject
    reason: Reason
    changes: list[ChangeNote] = Field(default_factory=list)
    link: str | None = None
    dedupe_key: str
    in_app: bool = True  # shown in the inbox (the in-app channel is not off)
    state: InboxState = "unread"
    read_at: datetime | None = None
    archived_at: datetime | None = None
    email: EmailMode = "none"
    email_state: EmailState = "none"
    emailed_at: datetime | None = None
    template: str = "notification"
    context: dict[str, object] = Field(default_factory=dict)  # extra e-mail template values
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("user_id", 1), ("dedupe_key", 1)], unique=True, name="one_per_key"),
            IndexModel([("user_id", 1), ("in_app", 1), ("created_at", -1), ("_id", -1)], name="inbox"),
            IndexModel([("user_id", 1), ("in_app", 1), ("state", 1), ("created_at", -1), ("_id", -1)], name="inbox_state"),
            IndexModel([("user_id", 1), ("in_app", 1), ("category", 1), ("created_at", -1), ("_id", -1)], name="inbox_category"),
            IndexModel([("user_id", 1), ("email_state", 1), ("email", 1), ("created_at", 1)], name="digest_pending"),
            DUE_WORK_INDEX,
        ]  # fmt: skip


class DigestSchedule(Document, DueWork):
    """One per user (`_id` = the user's id): due at the user's next digest time while
    something waits for a digest; `due_at` None otherwise."""

    id: PydanticObjectId
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "digest_schedules"
        indexes = [DUE_WORK_INDEX]


class DigestRecord(Document):
    """What one digest (user, period) holds: written before the e-mail leaves, so a retry
    of the period sends the same notifications, once (unique key)."""

    user_id: PydanticObjectId
    period: str
    notification_ids: list[PydanticObjectId]
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None

    class Settings:
        name = "digest_records"
        indexes = [IndexModel([("user_id", 1), ("period", 1)], unique=True, name="one_per_period")]
