"""Schemas shared by opportunities and events."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.models.catalogue import CatalogueItem
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
