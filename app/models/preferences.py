"""Notification preferences, one document per user (`_id` = the user's id). A user who never
saved any has the defaults (`services/notifications/preferences.py`)."""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field

from app.models.base import utcnow
from app.models.notification import Frequency


class QuietHours(BaseModel):
    start: str  # "22:00", in the user's time zone
    end: str  # "07:00"; a window may wrap midnight


class ChannelFrequencies(BaseModel):
    in_app: Frequency
    email: Frequency


class NotificationPreferences(Document):
    id: PydanticObjectId
    channels: dict[str, ChannelFrequencies]
    digest_time: str = "08:00"
    digest_weekday: int = 0  # Monday: weekly digests go out on this day
    timezone: str = "UTC"
    quiet_hours: QuietHours | None = None
    deadline_reminder_days: list[int] = Field(default_factory=lambda: [14, 3, 1])
    event_reminder_minutes: list[int] = Field(default_factory=lambda: [1440, 60])
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "notification_preferences"
