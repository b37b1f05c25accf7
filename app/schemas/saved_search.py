"""Saved searches: the body, the read model, the list, and new matches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.core.pagination import Page
from app.models.saved_search import AlertFrequency, SavedSearch, SearchKind
from app.schemas.common import InputModel, PatchModel
from app.schemas.query import PageQuery

QUERY_DESCRIPTION = (
    "The list's query parameters as JSON (`GET /opportunities` or `GET /events`: same names, "
    "values and validation, lists as arrays or comma-separated), without paging, sort, facets, "
    "status or updated_since."
)


class SavedSearchCreate(InputModel):
    name: str = Field(min_length=1, max_length=100)
    kind: SearchKind
    query: dict[str, Any] = Field(description=QUERY_DESCRIPTION, max_length=40)
    alert: AlertFrequency = Field(
        default="daily", description="E-mail for new matches: at once, in a digest, or never."
    )


class SavedSearchUpdate(PatchModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    query: dict[str, Any] | None = Field(default=None, description=QUERY_DESCRIPTION, max_length=40)
    alert: AlertFrequency | None = None


class SavedSearchRead(BaseModel):
    id: str
    name: str
    kind: SearchKind
    query: dict[str, Any]
    alert: AlertFrequency
    created_at: datetime
    updated_at: datetime
    looked_until: datetime | None = Field(description="When you last listed its matches.")

    @classmethod
    def from_doc(cls, doc: SavedSearch) -> SavedSearchRead:
        return cls.model_construct(
            id=str(doc.id),
            name=doc.name,
            kind=doc.kind,
            query=doc.params,
            alert=doc.alert,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            looked_until=doc.looked_until,
        )


class SavedSearchPage(Page[SavedSearchRead]):
    """Newest first."""


class SavedSearchQuery(PageQuery):
    kind: SearchKind | None = None


class MatchRead(BaseModel):
    item_kind: SearchKind
    item_id: str
    title: str
    slug: str
    matched_at: datetime


class MatchPage(Page[MatchRead]):
    """Items this search matched since you last looked, newest first (public items only)."""

    since: datetime = Field(description="The window's start: when you looked before.")
    until: datetime = Field(description="The window's end: now (the next look starts here).")


class MatchQuery(PageQuery):
    pass
