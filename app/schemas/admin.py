"""Admin views: audit entries and the moderation queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.core.pagination import Page
from app.models.audit import AuditEntry
from app.models.catalogue import ItemStatus
from app.schemas.catalogue import RevisionRead


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


class ModerationItem(BaseModel):
    kind: Literal["opportunity", "event"]
    moderation: Literal["review", "revision"] = Field(
        description="`review`: a new item to approve or reject (`/{id}/approve`, `/reject`); "
        "`revision`: an edit to approved content (`/{id}/revision/approve`, `/reject`)."
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


class ModerationPage(Page[ModerationItem]):
    """Items pending review and pending revisions, oldest first."""
