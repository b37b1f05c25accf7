"""Admin announcements, fanned out by the worker to a segment of users."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from app.models.base import utcnow


class Segment(BaseModel):
    """Who it is for: every list narrows (empty = no condition); profile fields come from
    the user's business profile."""

    roles: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    target_communities: list[str] = Field(default_factory=list)


class Announcement(Document):
    title: str
    body: str
    link: str | None = None
    segment: Segment
    created_by: PydanticObjectId
    created_at: datetime = Field(default_factory=utcnow)
    status: Literal["queued", "sending", "done"] = "queued"
    # The fan-out resumes after the last user it reached (a killed worker loses nothing;
    # notifications are unique per user and announcement, so repeating a batch is harmless).
    reached_after: PydanticObjectId | None = None
    recipients: int = 0
    finished_at: datetime | None = None

    class Settings:
        name = "announcements"
        indexes = [IndexModel([("created_at", -1), ("_id", -1)], name="recent")]
