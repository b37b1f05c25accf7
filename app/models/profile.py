"""Entrepreneurs' business profiles, one per user."""

from __future__ import annotations

from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from app.models.base import Timestamps


class BusinessStage(StrEnum):
    idea = "idea"
    pre_revenue = "pre_revenue"
    early_revenue = "early_revenue"
    growth = "growth"
    established = "established"


class RevenueBand(StrEnum):
    none = "none"
    under_10k = "under_10k"
    from_10k_to_100k = "10k_100k"
    from_100k_to_1m = "100k_1m"
    over_1m = "over_1m"


class Visibility(StrEnum):
    public = "public"
    members = "members"
    private = "private"


class SocialPlatform(StrEnum):
    linkedin = "linkedin"
    x = "x"
    facebook = "facebook"
    instagram = "instagram"
    youtube = "youtube"
    tiktok = "tiktok"
    github = "github"
    other = "other"


class SocialLink(BaseModel):
    platform: SocialPlatform
    url: str


class FundingNeed(BaseModel):
    """What the business is looking for, in minor units of `currency` (either bound optional)."""

    amount_min: int | None = None
    amount_max: int | None = None
    currency: str


class Demographics(BaseModel):
    """Optional, self-described; shown only to the owner and admins."""

    gender: str | None = None
    age_range: str | None = None
    ethnicity: str | None = None
    disability: bool | None = None
    founder_identities: list[str] = Field(default_factory=list)


class Profile(Document, Timestamps):
    user_id: PydanticObjectId
    display_name: str
    business_name: str
    bio: str = ""
    stage: BusinessStage | None = None
    founded_year: int | None = None
    team_size: int | None = None
    revenue_band: RevenueBand | None = None
    industries: list[str] = Field(default_factory=list)
    country: str | None = None
    region: str | None = None
    city: str | None = None
    target_communities: list[str] = Field(default_factory=list)
    sdgs: list[str] = Field(default_factory=list)
    interests: list[str] = Field(default_factory=list)
    funding: FundingNeed | None = None
    website: str | None = None
    social_links: list[SocialLink] = Field(default_factory=list)
    visibility: Visibility = Visibility.members
    demographics: Demographics | None = None
    avatar_media_id: PydanticObjectId | None = None
    version: int = 1

    class Settings:
        name = "profiles"
        indexes = [
            IndexModel([("user_id", 1)], unique=True, name="user_unique"),
            IndexModel([("visibility", 1), ("created_at", -1), ("_id", -1)], name="visibility_created"),
            IndexModel([("visibility", 1), ("country", 1), ("created_at", -1)], name="visibility_country"),
            IndexModel([("visibility", 1), ("industries", 1), ("created_at", -1)], name="visibility_industries"),
        ]  # fmt: skip
