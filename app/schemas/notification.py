"""Notifications and notification preferences: read models, the inbox query, the PUT body."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, field_validator

from app.core.pagination import Page
from app.models.notification import (
    Category,
    EmailMode,
    Frequency,
    InboxState,
    Notification,
    ReasonType,
    SubjectKind,
)
from app.models.preferences import NotificationPreferences
from app.schemas.common import InputModel
from app.schemas.query import PageQuery, QueryError
from app.schemas.validators import TimeZoneName


class SubjectRead(BaseModel):
    kind: SubjectKind
    id: str | None
    title: str


class ReasonRead(BaseModel):
    type: ReasonType = Field(description="What tied you to it: a saved search, a saved item…")
    id: str | None = Field(description="The saved search's or item's id, when there is one.")
    label: str = Field(description="Its name, e.g. the saved search's name.")
    preference: Category = Field(description="The preference (category) that let it through.")


class ChangeRead(BaseModel):
    field: str
    before: str | None
    after: str | None


class NotificationRead(BaseModel):
    id: str
    category: Category
    event: str = Field(description="What happened within the category, e.g. `waitlist_promoted`.")
    title: str
    body: str
    subject: SubjectRead = Field(description="What it is about (kind, id, title).")
    reason: ReasonRead = Field(description="Why you got it.")
    changes: list[ChangeRead] = Field(description="Field-level changes (saved items).")
    link: str | None
    state: InboxState
    email: EmailMode = Field(description="How it is e-mailed: at once, in a digest, or not.")
    created_at: datetime
    read_at: datetime | None
    archived_at: datetime | None

    @classmethod
    def from_doc(cls, doc: Notification, hidden: set[str] | None = None) -> NotificationRead:
        """`hidden`: ids of items the reader may no longer see; their notifications keep
        only the kind, id and status changes (like the `/me` tombstones)."""
        if hidden and doc.subject.id in hidden:
            return cls._gone(doc)
        return cls.model_construct(
            id=str(doc.id),
            category=doc.category,
            event=doc.event,
            title=doc.title,
            body=doc.body,
            subject=SubjectRead.model_construct(**doc.subject.model_dump()),
            reason=ReasonRead.model_construct(**doc.reason.model_dump()),
            changes=[ChangeRead.model_construct(**c.model_dump()) for c in doc.changes],
            link=doc.link,
            state=doc.state,
            email=doc.email,
            created_at=doc.created_at,
            read_at=doc.read_at,
            archived_at=doc.archived_at,
        )

    @classmethod
    def _gone(cls, doc: Notification) -> NotificationRead:
        kind = doc.subject.kind
        return cls.model_construct(
            id=str(doc.id),
            category=doc.category,
            event=doc.event,
            title=f"An {kind} you followed is no longer available",
            body="",
            subject=SubjectRead.model_construct(kind=kind, id=doc.subject.id, title=""),
            reason=ReasonRead.model_construct(**{**doc.reason.model_dump(), "label": ""}),
            changes=[
                ChangeRead.model_construct(**c.model_dump())
                for c in doc.changes
                if c.field == "status"
            ],
            link=None,
            state=doc.state,
            email=doc.email,
            created_at=doc.created_at,
            read_at=doc.read_at,
            archived_at=doc.archived_at,
        )


class NotificationPage(Page[NotificationRead]):
    """Newest first. A notification about an item you may no longer see shows only its
    kind, id and status changes."""


class NotificationQuery(PageQuery):
    state: InboxState | None = Field(
        default=None, description="`unread`, `read` or `archived`; default: all but archived."
    )
    category: Category | None = None


class UnreadCount(BaseModel):
    unread: int


class ReadAllResult(BaseModel):
    marked_read: int


# --- preferences ------------------------------------------------------------------------------

_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _clock(value: str) -> str:
    if not _CLOCK.fullmatch(value):
        raise ValueError("must be a time of day HH:MM (24 h)")
    return value


Clock = Annotated[
    str, Field(min_length=5, max_length=5, examples=["08:00"]), AfterValidator(_clock)
]


class ChannelSettings(InputModel):
    in_app: Frequency = "instant"
    email: Frequency = "instant"


class CategorySettings(InputModel):
    """Per category, a frequency per channel. Omitted categories take their defaults."""

    saved_search_match: ChannelSettings | None = None
    saved_item_changed: ChannelSettings | None = None
    deadline_reminder: ChannelSettings | None = None
    event_reminder: ChannelSettings | None = None
    rsvp: ChannelSettings | None = None
    moderation: ChannelSettings | None = None
    organisation: ChannelSettings | None = None
    announcement: ChannelSettings | None = None
    account_security: ChannelSettings | None = Field(
        default=None, description="Critical: only `instant` is accepted on either channel."
    )

    @field_validator("account_security")
    @classmethod
    def _locked(cls, value: ChannelSettings | None) -> ChannelSettings | None:
        if value is not None and (value.in_app != "instant" or value.email != "instant"):
            raise QueryError(
                "CATEGORY_LOCKED", "account_security notifications cannot be switched off."
            )
        return value


class QuietHoursSchema(InputModel):
    start: Clock
    end: Clock

    @field_validator("end")
    @classmethod
    def _not_empty(cls, end: str, info: object) -> str:
        data = getattr(info, "data", {})
        if data.get("start") == end:
            raise ValueError("quiet hours need start and end to differ")
        return end


def _distinct(values: list[int]) -> list[int]:
    if len(set(values)) != len(values):
        raise ValueError("offsets must be distinct")
    return sorted(values, reverse=True)


DeadlineDays = Annotated[
    list[Annotated[int, Field(ge=1, le=60)]], Field(max_length=5), AfterValidator(_distinct)
]
EventMinutes = Annotated[
    list[Annotated[int, Field(ge=5, le=20160)]], Field(max_length=5), AfterValidator(_distinct)
]


class PreferencesUpdate(InputModel):
    """The whole preferences (PUT): what is omitted takes its default."""

    channels: CategorySettings = Field(default_factory=CategorySettings)
    digest_time: Clock = Field(default="08:00", description="Local time of the daily digest.")
    digest_weekday: int = Field(default=0, ge=0, le=6, description="0 = Monday: weekly digests.")
    timezone: TimeZoneName = Field(default="UTC", description="IANA time zone, e.g. Europe/Paris.")
    quiet_hours: QuietHoursSchema | None = Field(
        default=None, description="No e-mail inside them; instant e-mails wait for the end."
    )
    deadline_reminder_days: DeadlineDays = Field(
        default_factory=lambda: [14, 3, 1],
        description="Days before a saved opportunity's deadline (at its local time of day).",
    )
    event_reminder_minutes: EventMinutes = Field(
        default_factory=lambda: [1440, 60], description="Minutes before an event you RSVPed to."
    )


class ChannelRead(BaseModel):
    in_app: Frequency
    email: Frequency


class QuietHoursRead(BaseModel):
    start: str
    end: str


class PreferencesRead(BaseModel):
    channels: dict[str, ChannelRead] = Field(description="Per category (see `category`).")
    digest_time: str
    digest_weekday: int
    timezone: str
    quiet_hours: QuietHoursRead | None
    deadline_reminder_days: list[int]
    event_reminder_minutes: list[int]
    updated_at: datetime | None = Field(description="Null while you use the defaults.")

    @classmethod
    def from_doc(cls, doc: NotificationPreferences, stored: bool) -> PreferencesRead:
        channels: dict[str, ChannelRead] = {
            k: ChannelRead.model_construct(in_app=v.in_app, email=v.email)
            for k, v in doc.channels.items()
        }
        return cls.model_construct(
            channels=channels,
            digest_time=doc.digest_time,
            digest_weekday=doc.digest_weekday,
            timezone=doc.timezone,
            quiet_hours=QuietHoursRead.model_construct(**doc.quiet_hours.model_dump())
            if doc.quiet_hours
            else None,
            deadline_reminder_days=doc.deadline_reminder_days,
            event_reminder_minutes=doc.event_reminder_minutes,
            updated_at=doc.updated_at if stored else None,
        )
