"""Organisations that publish opportunities and events, and platform partnerships."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from app.models.base import Timestamps


class OrganisationType(StrEnum):
    government = "government"
    ngo = "ngo"
    corporate = "corporate"
    investor = "investor"
    university = "university"
    accelerator = "accelerator"
    other = "other"


class OrgRole(StrEnum):
    owner = "owner"
    editor = "editor"


class Member(BaseModel):
    user_id: PydanticObjectId
    role: OrgRole
    added_at: datetime


class Organisation(Document, Timestamps):
    name: str
    slug: str
    type: OrganisationType
    description: str = ""
    website: str | None = None
    country: str | None = None
    members: list[Member] = Field(default_factory=list)
    logo_media_id: PydanticObjectId | None = None
    archived: bool = False
    version: int = 1
    search_tokens: list[str] = Field(default_factory=list)

    class Settings:
        name = "organisations"
        indexes = [
            IndexModel([("slug", 1)], unique=True, name="slug_unique"),
            IndexModel([("archived", 1), ("name", 1), ("_id", 1)], name="archived_name"),
            IndexModel([("archived", 1), ("created_at", -1), ("_id", -1)], name="archived_created"),
            IndexModel([("members.user_id", 1)], name="member"),
            IndexModel([("archived", 1), ("type", 1), ("name", 1)], name="archived_type_name"),
            IndexModel([("search_tokens", 1)], name="search_tokens"),
        ]

    def role_of(self, user_id: PydanticObjectId) -> OrgRole | None:
        return next((m.role for m in self.members if m.user_id == user_id), None)


class PartnerTier(StrEnum):
    platinum = "platinum"
    gold = "gold"
    silver = "silver"
    bronze = "bronze"
    community = "community"


class PartnerStatus(StrEnum):
    pending = "pending"
    active = "active"
    suspended = "suspended"
    ended = "ended"


class PartnerContact(BaseModel):
    name: str
    email: str
    phone: str | None = None


class Partnership(Document, Timestamps):
    organisation_id: PydanticObjectId
    organisation_name: str
    organisation_slug: str
    tier: PartnerTier
    status: PartnerStatus = PartnerStatus.pending
    contact: PartnerContact
    start_date: datetime  # midnight UTC of the start day
    end_date: datetime | None = None  # midnight UTC of the last day
    version: int = 1

    class Settings:
        name = "partnerships"
        indexes = [
            IndexModel([("organisation_id", 1)], unique=True, name="organisation_unique"),
            IndexModel([("status", 1), ("tier", 1), ("organisation_name", 1)], name="status_tier"),
            IndexModel([("created_at", -1), ("_id", -1)], name="created"),
        ]
