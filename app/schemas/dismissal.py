"""Dismissed items: the body of `PUT /me/dismissed/{kind}/{id}`, the read model, the list."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.core.pagination import Page
from app.models.dismissal import Dismissal, DismissReason, ItemKind
from app.schemas.common import InputModel
from app.schemas.query import PageQuery

__all__ = ["DismissRequest", "DismissalPage", "DismissalQuery", "DismissalRead", "ItemKind"]


class DismissRequest(InputModel):
    reason: DismissReason | None = Field(
        default=None, description="Why: it teaches recommendations what to show less of."
    )
    note: str | None = Field(default=None, max_length=500, description="Free text, for you.")


class DismissalRead(BaseModel):
    kind: ItemKind
    item_id: str
    reason: DismissReason | None
    note: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_doc(cls, doc: Dismissal) -> DismissalRead:
        return cls.model_construct(
            kind=doc.kind,
            item_id=str(doc.item_id),
            reason=doc.reason,
            note=doc.note,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
        )


class DismissalPage(Page[DismissalRead]):
    pass


class DismissalQuery(PageQuery):
    kind: ItemKind | None = Field(default=None, description="Only dismissals of this kind.")
