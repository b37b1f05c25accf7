"""Admin views: audit entries and the moderation queue."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from bson import ObjectId
from pydantic import BaseModel, Field, field_validator

from app.core.pagination import Page
from app.models.audit import AuditEntry
from app.models.catalogue import ItemStatus
from app.models.provenance import LinkCheck, Provenance
from app.schemas.catalogue import RevisionRead
from app.schemas.query import PageQuery, QueryError
from app.schemas.validators import UtcDatetime

if TYPE_CHECKING:
    from app.services.moderation import QueueEntry

ModerationKind = Literal["opportunity", "event"]
ModerationStage = Literal["review", "revision", "link"]


class AuditRead(BaseModel):
    id: str
    actor_id: str | None
    actor_role: str | None
    action: str
    entity: str
    entity_id: str
    changes: dict[str, dict[str, Any]]
    at: datetime
    request_id: str | None

    @classmethod
    def from_doc(cls, e: AuditEntry) -> AuditRead:
        return cls(
            id=str(e.id),
            actor_id=str(e.actor_id) if e.actor_id else None,
            actor_role=e.actor_role,
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            changes=e.changes,
            at=e.at,
            request_id=e.request_id,
        )


class AuditPage(Page[AuditRead]):
    """A page of audit entries, newest first."""


# What the audit log records changes to (the services' ENTITY names; the catalogue kinds').
AuditEntity = Literal["opportunity", "event", "organisation", "partner", "reference", "user"]


class AuditQuery(PageQuery):
    error_codes: ClassVar[tuple[str, ...]] = (*PageQuery.error_codes, "INVALID_ID")
    entity: AuditEntity | None = Field(
        default=None,
        description="What kind of thing changed.",
    )
    entity_id: str | None = Field(default=None, max_length=120)
    actor_id: str | None = Field(default=None, max_length=40)
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None

    @field_validator("actor_id")
    @classmethod
    def _an_id(cls, actor_id: str | None) -> str | None:
        if actor_id is not None and not ObjectId.is_valid(actor_id):
            raise QueryError("INVALID_ID", "actor_id is not a valid id.")
        return actor_id


class ModerationItem(BaseModel):
    kind: ModerationKind
    moderation: ModerationStage = Field(
        description="`review`: a new item to approve or reject (`/{id}/approve`, `/reject`); "
        "`revision`: an edit to approved content (`/{id}/revision/approve`, `/reject`); "
        "`link`: a published item whose link is gone (the scheduled link check)."
    )
    id: str
    title: str = Field(description="The live title (a revision may propose another).")
    organisation_name: str
    status: ItemStatus
    version: int = Field(description="Send it as If-Match to decide on exactly this version.")
    submitted_at: datetime
    revision: RevisionRead | None = Field(
        default=None, description="For `revision`: the field-level diff, live vs proposed."
    )
    link_check: LinkCheck | None = Field(
        default=None, description="For `link`: the link that is gone and what it answered."
    )
    provenance: Provenance | None = Field(
        default=None, description="Ingested or imported items: where they came from."
    )

    @classmethod
    def from_entry(cls, e: QueueEntry) -> ModerationItem:
        return cls(
            kind=e.kind,
            moderation=e.stage,
            id=str(e.item.id),
            title=e.item.title,
            organisation_name=e.item.organisation_name,
            status=e.item.status,
            version=e.item.version,
            submitted_at=e.submitted_at,
            revision=RevisionRead.of(e.item) if e.stage == "revision" else None,
            link_check=e.item.link_check if e.stage == "link" else None,
            provenance=e.item.provenance,
        )


class ModerationPage(Page[ModerationItem]):
    """Items pending review and pending revisions, oldest first."""


class ModerationQuery(PageQuery):
    kind: ModerationKind | None = None
    moderation: ModerationStage | None = Field(
        default=None,
        description="Only new items (review), only edits (revision), or only items whose "
        "link is gone (link).",
    )
