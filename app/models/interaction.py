"""What users do with catalogue items: saves, applications, views, RSVPs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from app.models.base import utcnow


class ApplicationStatus(StrEnum):
    interested = "interested"
    applied = "applied"
    awarded = "awarded"
    rejected = "rejected"


class OpportunityInteraction(Document):
    user_id: PydanticObjectId
    opportunity_id: PydanticObjectId
    saved: bool = False
    saved_at: datetime | None = None
    application_status: ApplicationStatus | None = None
    applied_counted: bool = False
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "opportunity_interactions"
        indexes = [
            IndexModel([("user_id", 1), ("opportunity_id", 1)], unique=True, name="user_opportunity"),
            IndexModel([("user_id", 1), ("saved", 1), ("updated_at", -1), ("_id", -1)], name="user_saved"),
            IndexModel([("user_id", 1), ("application_status", 1), ("updated_at", -1), ("_id", -1)], name="user_status"),
        ]  # fmt: skip


class OpportunityView(Document):
    """One per user, opportunity and UTC day; the unique index makes counting idempotent."""

    user_id: PydanticObjectId
    opportunity_id: PydanticObjectId
    day: str
    expires_at: datetime

    class Settings:
        name = "opportunity_views"
        indexes = [
            IndexModel([("opportunity_id", 1), ("user_id", 1), ("day", 1)], unique=True, name="once_a_day"),
            IndexModel([("expires_at", 1)], expireAfterSeconds=0, name="ttl_expires"),
        ]  # fmt: skip


class RsvpStatus(StrEnum):
    going = "going"
    interested = "interested"
    waitlisted = "waitlisted"


class Rsvp(Document):
    event_id: PydanticObjectId
    user_id: PydanticObjectId
    status: RsvpStatus
    waitlist_position: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "rsvps"
        indexes = [
            IndexModel([("event_id", 1), ("user_id", 1)], unique=True, name="one_per_user"),
            IndexModel(
                [("event_id", 1), ("status", 1), ("waitlist_position", 1)],
                name="event_status_position",
            ),
            IndexModel([("event_id", 1), ("created_at", 1), ("_id", 1)], name="event_created"),
            IndexModel([("user_id", 1), ("created_at", -1), ("_id", -1)], name="user_created"),
        ]
