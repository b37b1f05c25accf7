"""What opportunities and events share: workflow status, organisation, search and sync fields."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field

from app.models.base import Timestamps


class ItemStatus(StrEnum):
    draft = "draft"
    pending_review = "pending_review"
    published = "published"
    closed = "closed"
    cancelled = "cancelled"
    archived = "archived"


class CatalogueItem(Document, Timestamps):
    """Base document (not a collection of its own)."""

    title: str
    slug: str
    description: str = ""
    organisation_id: PydanticObjectId
    organisation_name: str
    organisation_slug: str
    status: ItemStatus = ItemStatus.draft
    status_reason: str | None = None
    status_before_archive: ItemStatus | None = None
    ever_published: bool = False
    published_at: datetime | None = None
    created_by: PydanticObjectId
    tags: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    sdgs: list[str] = Field(default_factory=list)
    target_communities: list[str] = Field(default_factory=list)
    cover_media_id: PydanticObjectId | None = None
    search_tokens: list[str] = Field(default_factory=list)
    title_tokens: list[str] = Field(default_factory=list)
    version: int = 1
