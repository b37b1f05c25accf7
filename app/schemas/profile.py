"""Business profile schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from app.core.pagination import Page
from app.models.profile import (
    BusinessStage,
    Demographics,
    Profile,
    RevenueBand,
    SocialPlatform,
    Visibility,
)
from app.schemas.common import InputModel, PatchModel
from app.schemas.query import PageQuery
from app.schemas.validators import CountryCode, CurrencyCode, SlugList, Url
from app.utils.strict_json import INT_MAX

CURRENT_YEAR_MAX = 2100


class SocialLinkSchema(InputModel):
    platform: SocialPlatform
    url: Url


class FundingNeedSchema(InputModel):
    """The funding the business looks for: matched against opportunities' amount ranges.
    Replaced as a whole (PATCH sends the whole object, or null to clear it)."""

    amount_min: int | None = Field(default=None, ge=0, le=INT_MAX, description="Minor units.")
    amount_max: int | None = Field(default=None, ge=0, le=INT_MAX, description="Minor units.")
    currency: CurrencyCode

    @model_validator(mode="after")
    def _range(self) -> FundingNeedSchema:
        if self.amount_min is None and self.amount_max is None:
            raise ValueError("give amount_min, amount_max or both")
        if (
            self.amount_min is not None
            and self.amount_max is not None
            and self.amount_min > self.amount_max
        ):
            raise ValueError("amount_min must not exceed amount_max")
        return self


class DemographicsSchema(InputModel):
    gender: str | None = Field(default=None, max_length=60)
    age_range: str | None = Field(default=None, max_length=20)
    ethnicity: str | None = Field(default=None, max_length=100)
    disability: bool | None = None
    founder_identities: list[str] = Field(default_factory=list, max_length=10)


class ProfileWrite(InputModel):
    """Full profile (PUT). PATCH takes the same fields, all optional."""

    display_name: str = Field(min_length=1, max_length=120)
    business_name: str = Field(min_length=1, max_length=200)
    bio: str = Field(default="", max_length=5000)
    stage: BusinessStage | None = None
    founded_year: int | None = Field(default=None, ge=1800, le=CURRENT_YEAR_MAX)
    team_size: int | None = Field(default=None, ge=0, le=1_000_000)
    revenue_band: RevenueBand | None = None
    industries: SlugList = Field(default_factory=list)
    country: CountryCode | None = None
    region: str | None = Field(default=None, max_length=120)
    city: str | None = Field(default=None, max_length=120)
    target_communities: SlugList = Field(default_factory=list)
    sdgs: SlugList = Field(default_factory=list)
    interests: SlugList = Field(default_factory=list, description="Tag slugs.")
    funding: FundingNeedSchema | None = Field(
        default=None, description="What you look for; matched with opportunities' amounts."
    )
    website: Url | None = None
    social_links: list[SocialLinkSchema] = Field(default_factory=list, max_length=10)
    visibility: Visibility = Visibility.members
    demographics: DemographicsSchema | None = None


class ProfilePatch(PatchModel):
    nullable = frozenset(
        {
            "stage",
            "founded_year",
            "team_size",
            "revenue_band",
            "country",
            "region",
            "city",
            "website",
            "demographics",
            "funding",
        }
    )
    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    business_name: str | None = Field(default=None, min_length=1, max_length=200)
    bio: str | None = Field(default=None, max_length=5000)
    stage: BusinessStage | None = None
    founded_year: int | None = Field(default=None, ge=1800, le=CURRENT_YEAR_MAX)
    team_size: int | None = Field(default=None, ge=0, le=1_000_000)
    revenue_band: RevenueBand | None = None
    industries: SlugList | None = None
    country: CountryCode | None = None
    region: str | None = Field(default=None, max_length=120)
    city: str | None = Field(default=None, max_length=120)
    target_communities: SlugList | None = None
    sdgs: SlugList | None = None
    interests: SlugList | None = None
    funding: FundingNeedSchema | None = None
    website: Url | None = None
    social_links: list[SocialLinkSchema] | None = Field(default=None, max_length=10)
    visibility: Visibility | None = None
    demographics: DemographicsSchema | None = None


class SocialLinkRead(BaseModel):
    platform: SocialPlatform
    url: str


class FundingNeedRead(BaseModel):
    amount_min: int | None
    amount_max: int | None
    currency: str


class DemographicsRead(BaseModel):
    gender: str | None = None
    age_range: str | None = None
    ethnicity: str | None = None
    disability: bool | None = None
    founder_identities: list[str] = Field(default_factory=list)


class ProfileRead(BaseModel):
    """Read models take what was stored as it is: no input validator runs on the way out."""

    id: str
    user_id: str
    display_name: str
    business_name: str
    bio: str
    stage: BusinessStage | None
    founded_year: int | None
    team_size: int | None
    revenue_band: RevenueBand | None
    industries: list[str]
    country: str | None
    region: str | None
    city: str | None
    target_communities: list[str]
    sdgs: list[str]
    interests: list[str]
    funding: FundingNeedRead | None = None
    website: str | None
    social_links: list[SocialLinkRead]
    visibility: Visibility
    avatar_media_id: str | None
    demographics: DemographicsRead | None = Field(
        default=None, description="Only for the owner and admins."
    )
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def from_doc(cls, p: Profile, *, private_view: bool) -> ProfileRead:
        data = p.model_dump(
            exclude={"id", "user_id", "avatar_media_id", "demographics", "revision_id", "funding"}
        )
        return cls(
            **data,
            id=str(p.id),
            user_id=str(p.user_id),
            avatar_media_id=str(p.avatar_media_id) if p.avatar_media_id else None,
            funding=FundingNeedRead.model_validate(p.funding.model_dump()) if p.funding else None,
            demographics=DemographicsRead.model_validate(p.demographics.model_dump())
            if private_view and p.demographics
            else None,
        )


class ProfilePage(Page[ProfileRead]):
    """A page of profiles."""


def demographics_model(d: DemographicsSchema | None) -> Demographics | None:
    return Demographics(**d.model_dump()) if d else None


class ProfileQuery(PageQuery):
    country: CountryCode | None = None
    industry: str | None = Field(default=None, max_length=80)
