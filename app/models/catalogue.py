"""What opportunities and events share: workflow status, organisation, search and sync fields."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from app.models.base import Timestamps
from app.models.provenance import LinkCheck, Provenance
from app.models.revision import PendingRevision, RevisionDecision

# The moderation queue of pending revisions, oldest first (only items that have one).
REVISION_QUEUE_INDEX = IndexModel(
    [("pending_revision.created_at", 1), ("_id", 1)],
    name="revision_queue",
    partialFilterExpression={"pending_revision.created_at": {"$exists": True}},
)


# Duplicate detection (services/ingestion/dedupe.py) looks items up by their derived keys,
# the upsert by provenance, the freshness sweep and the moderation queue by link state.
INGESTION_INDEXES = [
    IndexModel([("provenance.external_id", 1)], name="provenance_external_id"),
    IndexModel([("dedupe_urls", 1)], name="dedupe_urls"),
    IndexModel([("dedupe_date_key", 1)], name="dedupe_date_key"),
    IndexModel([("dedupe_bands", 1)], name="dedupe_bands"),
    IndexModel([("link_check.status", 1), ("link_check.checked_at", 1), ("_id", 1)], name="link_check"),
]  # fmt: skip


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
    # A member's edit to approved content waits here for staff (never shown to the public).
    pending_revision: PendingRevision | None = None
    revision_decision: RevisionDecision | None = None
    version: int = 1
    # Ingested or imported items: where from (None for items entered by hand).
    provenance: Provenance | None = None
    # A duplicate merged into another item: archived, and its id and slug lead there.
    merged_into: PydanticObjectId | None = None
    link_check: LinkCheck | None = None
    # Duplicate-detection keys, derived (`catalogue.derive`): canonical URLs (tracking
    # parameters stripped), the day key of its deadline or start, the MinHash signature of
    # its description and that signature's bands.
    dedupe_urls: list[str] = Field(default_factory=list)
    dedupe_date_key: str | None = None
    dedupe_bands: list[str] = Field(default_factory=list)
    dedupe_signature: str | None = None
