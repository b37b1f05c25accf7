"""Opportunity schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from app.core.pagination import Page
from app.models.catalogue import ItemStatus
from app.models.opportunity import Opportunity
from app.models.profile import BusinessStage
from app.schemas.catalogue import (
    CatalogueCreateFields,
    CatalogueUpdateFields,
    FacetCount,
    ItemTombstone,
    OrganisationRef,
    RevisionDecisionRead,
    RevisionRead,
)
from app.schemas.common import InputModel
from app.schemas.validators import CountryCode, CurrencyCode, SlugList, Url, UtcDatetime


class EligibilitySchema(InputModel):
    industries: SlugList = Field(default_factory=list)
    stages: list[BusinessStage] = Field(default_factory=list, max_length=5)
    countries: list[CountryCode] = Field(default_factory=list, max_length=250)
    regions: list[str] = Field(default_factory=list, max_length=50)
    target_communities: SlugList = Field(default_factory=list)
    min_years_in_business: int | None = Field(default=None, ge=0, le=200)
    max_years_in_business: int | None = Field(default=None, ge=0, le=200)
    criteria: str | None = Field(default=None, max_length=5000)


def _check_money(amount_min: int | None, amount_max: int | None, currency: str | None) -> None:
    if (amount_min is not None or amount_max is not None) and not currency:
        raise ValueError("currency is required when an amount is given")
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        raise ValueError("amount_min must not exceed amount_max")


class OpportunityCreate(CatalogueCreateFields):
    summary: str = Field(default="", max_length=500)
    type: str = Field(min_length=1, max_length=80)
    amount_min: int | None = Field(default=None, ge=0, description="Minor units (cents).")
    amount_max: int | None = Field(default=None, ge=0, description="Minor units (cents).")
    currency: CurrencyCode | None = None
    deadline: UtcDatetime | None = Field(default=None, description="Time-zone aware; stored UTC.")
    rolling: bool = False
    application_url: Url | None = None
    eligibility: EligibilitySchema = Field(default_factory=EligibilitySchema)
    featured: bool = False

    @model_validator(mode="after")
    def _rules(self) -> OpportunityCreate:
        _check_money(self.amount_min, self.amount_max, self.currency)
        if self.rolling and self.deadline:
            raise ValueError("a rolling opportunity has no deadline")
        return self


class OpportunityUpdate(CatalogueUpdateFields):
    nullable = frozenset({"amount_min", "amount_max", "currency", "deadline", "application_url"})
    summary: str | None = Field(default=None, max_length=500)
    type: str | None = Field(default=None, min_length=1, max_length=80)
    amount_min: int | None = Field(default=None, ge=0)
    amount_max: int | None = Field(default=None, ge=0)
    currency: CurrencyCode | None = None
    deadline: UtcDatetime | None = None
    rolling: bool | None = None
    application_url: Url | None = None
    eligibility: EligibilitySchema | None = None
    featured: bool | None = None


class OpportunityRead(BaseModel):
    id: str
    slug: str
    title: str
    summary: str
    description: str
    type: str
    organisation: OrganisationRef
    amount_min: int | None
    amount_max: int | None
    currency: str | None
    deadline: datetime | None
    rolling: bool
    application_url: str | None
    eligibility: EligibilitySchema
    tags: list[str]
    industries: list[str]
    sdgs: list[str]
    target_communities: list[str]
    featured: bool
    status: ItemStatus = Field(description="Past-deadline published items read as `closed`.")
    status_reason: str | None = None
    views: int
    saves: int
    applications: int
    cover_media_id: str | None
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    pending_revision: RevisionRead | None = Field(
        default=None,
        description="A member's edit waiting for staff (the organisation and staff only).",
    )
    revision_decision: RevisionDecisionRead | None = Field(
        default=None, description="The last revision's outcome (the organisation and staff only)."
    )

    @classmethod
    def from_doc(cls, o: Opportunity, *, status: ItemStatus, show_reason: bool) -> OpportunityRead:
        return cls(
            id=str(o.id),
            slug=o.slug,
            title=o.title,
            summary=o.summary,
            description=o.description,
            type=o.type,
            organisation=OrganisationRef.of(o),
            amount_min=o.amount_min,
            amount_max=o.amount_max,
            currency=o.currency,
            deadline=o.deadline,
            rolling=o.rolling,
            application_url=o.application_url,
            eligibility=EligibilitySchema.model_validate(o.eligibility.model_dump()),
            tags=o.tags,
            industries=o.industries,
            sdgs=o.sdgs,
            target_communities=o.target_communities,
            featured=o.featured,
            status=status,
            status_reason=o.status_reason if show_reason else None,
            pending_revision=RevisionRead.of(o) if show_reason else None,
            revision_decision=RevisionDecisionRead.of(o) if show_reason else None,
            views=o.views,
            saves=o.saves,
            applications=o.applications,
            cover_media_id=str(o.cover_media_id) if o.cover_media_id else None,
            published_at=o.published_at,
            created_at=o.created_at,
            updated_at=o.updated_at,
            version=o.version,
        )


class OpportunityPage(Page[OpportunityRead | ItemTombstone]):
    """With `updated_since`, items that left the public set come as tombstones
    (`id`, `status`, `updated_at` only), in the same change order."""

    facets: dict[str, list[FacetCount]] | None = Field(
        default=None, description="Counts per value for the current filter (`facets=`)."
    )
