"""Opportunity schemas: create and update bodies, the list query, the read model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo, field_validator

from app.core.pagination import Page
from app.models.catalogue import ItemStatus
from app.models.profile import BusinessStage, RevenueBand
from app.schemas.catalogue import (
    CatalogueCreateFields,
    CatalogueItemRead,
    CataloguePage,
    CatalogueQuery,
    CatalogueUpdateFields,
    ItemTombstone,
    SharedFacet,
    SharedSort,
    item_fields,
)
from app.schemas.common import InputModel
from app.schemas.construct import construct, document_values
from app.schemas.query import QueryError, coded, split_values
from app.schemas.validators import CountryCode, CurrencyCode, SlugList, Url, UtcDatetime
from app.utils.strict_json import INT_MAX

if TYPE_CHECKING:
    from app.models.opportunity import Opportunity
    from app.services.catalogue import ItemView

OpportunitySort = Literal["deadline", SharedSort]
OpportunityFacet = Literal[SharedFacet, "country", "stages"]


class EligibilitySchema(InputModel):
    industries: SlugList = Field(default_factory=list)
    stages: list[BusinessStage] = Field(default_factory=list, max_length=5)
    countries: list[CountryCode] = Field(default_factory=list, max_length=250)
    regions: list[str] = Field(default_factory=list, max_length=50)
    target_communities: SlugList = Field(default_factory=list)
    min_years_in_business: int | None = Field(default=None, ge=0, le=200)
    max_years_in_business: int | None = Field(default=None, ge=0, le=200)
    min_team_size: int | None = Field(default=None, ge=0, le=1_000_000)
    max_team_size: int | None = Field(default=None, ge=0, le=1_000_000)
    revenue_bands: list[RevenueBand] = Field(
        default_factory=list, max_length=5, description="Any of these annual revenue bands."
    )
    criteria: str | None = Field(default=None, max_length=5000)


class EligibilityRead(BaseModel):
    industries: list[str]
    stages: list[BusinessStage]
    countries: list[str]
    regions: list[str]
    target_communities: list[str]
    min_years_in_business: int | None
    max_years_in_business: int | None
    min_team_size: int | None = None
    max_team_size: int | None = None
    revenue_bands: list[RevenueBand] = Field(default_factory=list)
    criteria: str | None


class OpportunityCreate(CatalogueCreateFields):
    """Rules across fields (amounts need a currency, min ≤ max, rolling has no deadline) are
    the opportunity rule function's (`services/opportunities/kind.py`), for create and
    update alike."""

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


class OpportunityRead(CatalogueItemRead):
    status: ItemStatus = Field(description="Past-deadline published items read as `closed`.")
    summary: str
    amount_min: int | None
    amount_max: int | None
    currency: str | None
    deadline: datetime | None
    rolling: bool
    application_url: str | None
    eligibility: EligibilityRead
    featured: bool
    views: int
    saves: int
    applications: int

    @classmethod
    def from_view(cls, view: ItemView[Opportunity]) -> OpportunityRead:
        """Built from our own document: nothing is validated again on the way out."""
        o = document_values(view.item)
        return construct(
            cls,
            {
                **item_fields(view),
                "summary": o["summary"],
                "amount_min": o["amount_min"],
                "amount_max": o["amount_max"],
                "currency": o["currency"],
                "deadline": o["deadline"],
                "rolling": o["rolling"],
                "application_url": o["application_url"],
                "eligibility": construct(EligibilityRead, vars(o["eligibility"]).copy()),
                "featured": o["featured"],
                "views": o["views"],
                "saves": o["saves"],
                "applications": o["applications"],
            },
        )


class OpportunityPage(Page[OpportunityRead | ItemTombstone], CataloguePage):
    """With `updated_since`, items that left the public set come as tombstones
    (`id`, `status`, `updated_at` only), in the same change order."""

    item_read: ClassVar[Callable[[ItemView[Any]], BaseModel]] = OpportunityRead.from_view


class OpportunityQuery(CatalogueQuery):
    """`GET /opportunities`. Amount filters need a currency (422 `CURRENCY_REQUIRED`)."""

    stages: Annotated[list[BusinessStage], BeforeValidator(split_values)] = Field(
        default_factory=list, max_length=5
    )
    deadline_from: UtcDatetime | None = None
    deadline_to: UtcDatetime | None = None
    amount_min: int | None = Field(
        default=None, ge=0, le=INT_MAX, description="Minor units; needs currency."
    )
    amount_max: int | None = Field(
        default=None, ge=0, le=INT_MAX, description="Minor units; needs currency."
    )
    currency: CurrencyCode | None = Field(default=None, validate_default=True)
    open_now: bool = Field(default=False, description="Deadline not passed (or rolling).")
    featured: bool | None = None
    sort: Annotated[OpportunitySort | None, coded("INVALID_SORT")] = Field(
        default=None,
        description="`deadline` (default), `newest`, `updated`, `relevance` (default with `q`).",
    )
    facets: Annotated[
        list[OpportunityFacet], BeforeValidator(split_values), coded("INVALID_FACET")
    ] = Field(default_factory=list, max_length=10, description="Counts per value, e.g. type,tags.")

    @field_validator("currency")
    @classmethod
    def _amounts_need_currency(cls, currency: str | None, info: ValidationInfo) -> str | None:
        amounts = (info.data.get("amount_min"), info.data.get("amount_max"))
        if currency is None and any(a is not None for a in amounts):
            raise QueryError("CURRENCY_REQUIRED", "Amount filters need a currency.")
        return currency
