"""Schemas shared by opportunities and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.revision import RevisionOutcome
from app.schemas.common import InputModel, PatchModel
from app.schemas.validators import Slug, SlugList


class OrganisationRef(BaseModel):
    id: str
    name: str
    slug: str

    @classmethod
    def of(cls, item: CatalogueItem) -> OrganisationRef:
        return cls(
            id=str(item.organisation_id), name=item.organisation_name, slug=item.organisation_slug
        )


class FacetCount(BaseModel):
    value: str
    count: int


class CatalogueCreateFields(InputModel):
    title: str = Field(min_length=3, max_length=200)
    slug: Slug | None = None
    description: str = Field(default="", max_length=50000, description="Rich text; sanitised.")
    organisation_id: str = Field(min_length=1, max_length=64)
    tags: SlugList = Field(default_factory=list)
    industries: SlugList = Field(default_factory=list)
    sdgs: SlugList = Field(default_factory=list)
    target_communities: SlugList = Field(default_factory=list)


class CatalogueUpdateFields(PatchModel):
    title: str | None = Field(default=None, min_length=3, max_length=200)
    description: str | None = Field(default=None, max_length=50000)
    tags: SlugList | None = None
    industries: SlugList | None = None
    sdgs: SlugList | None = None
    target_communities: SlugList | None = None


class RejectRequest(InputModel):
    reason: str = Field(min_length=3, max_length=2000)


class ReasonRequest(InputModel):
    reason: str | None = Field(default=None, max_length=2000)


def _plain(value: Any) -> Any:
    return to_jsonable_python(value, fallback=str)


class ItemTombstone(BaseModel):
    """An item you can no longer see (it left the public set): only its id, status and
    when that happened. Incremental sync (`updated_since`) and `/me` lists return these."""

    model_config = ConfigDict(extra="forbid")

    id: str
    status: ItemStatus
    updated_at: datetime

    @classmethod
    def of(cls, item: CatalogueItem) -> ItemTombstone:
        return cls(id=str(item.id), status=item.status, updated_at=item.updated_at)


class FieldChange(BaseModel):
    before: Any = Field(description="What readers see now.")
    after: Any = Field(description="What the revision proposes.")


class RevisionRead(BaseModel):
    """A member's edit to approved content, waiting for staff. Its organisation and staff only."""

    id: str
    item_id: str
    item_version: int = Field(description="Send it as If-Match to approve, reject or withdraw.")
    changes: dict[str, FieldChange] = Field(description="Field by field, live vs proposed.")
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, item: CatalogueItem) -> RevisionRead | None:
        revision = item.pending_revision
        if revision is None:
            return None
        return cls(
            id=str(revision.id),
            item_id=str(item.id),
            item_version=item.version,
            changes={
                name: FieldChange(before=_plain(getattr(item, name)), after=_plain(value))
                for name, value in sorted(revision.changes.items())
            },
            created_by=str(revision.created_by),
            updated_by=str(revision.updated_by),
            created_at=revision.created_at,
            updated_at=revision.updated_at,
        )


class RevisionDecisionRead(BaseModel):
    """What became of the last pending revision (its organisation and staff only)."""

    revision_id: str
    outcome: RevisionOutcome
    reason: str | None
    decided_at: datetime

    @classmethod
    def of(cls, item: CatalogueItem) -> RevisionDecisionRead | None:
        d = item.revision_decision
        if d is None:
            return None
        return cls(
            revision_id=str(d.revision_id),
            outcome=d.outcome,
            reason=d.reason,
            decided_at=d.decided_at,
        )
