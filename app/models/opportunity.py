"""Opportunities: grants, loans, equity, accelerators, competitions."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from pymongo import IndexModel

from app.models.catalogue import INGESTION_INDEXES, REVISION_QUEUE_INDEX, CatalogueItem
from app.models.profile import BusinessStage, RevenueBand

# Rolling opportunities sort after every dated one.
ROLLING_SORT_DATE = datetime(9999, 12, 31, tzinfo=UTC)


class Eligibility(BaseModel):
    industries: list[str] = Field(default_factory=list)
    stages: list[BusinessStage] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    target_communities: list[str] = Field(default_factory=list)
    min_years_in_business: int | None = None
    max_years_in_business: int | None = None
    min_team_size: int | None = None
    max_team_size: int | None = None
    revenue_bands: list[RevenueBand] = Field(default_factory=list)
    criteria: str | None = None


class Opportunity(CatalogueItem):
    summary: str = ""
    type: str
    amount_min: int | None = None  # minor units of `currency`
    amount_max: int | None = None
    currency: str | None = None
    deadline: datetime | None = None
    rolling: bool = False
    deadline_sort: datetime = ROLLING_SORT_DATE
    application_url: str | None = None
    eligibility: Eligibility = Field(default_factory=Eligibility)
    featured: bool = False
    views: int = 0
    saves: int = 0
    applications: int = 0

    class Settings:
        name = "opportunities"
        indexes = [
            IndexModel([("slug", 1)], unique=True, name="slug_unique"),
            # status + each sort (deadline, newest, updated)
            IndexModel([("status", 1), ("deadline_sort", 1), ("_id", 1)], name="status_deadline"),
            IndexModel([("status", 1), ("published_at", -1), ("_id", -1)], name="status_newest"),
            IndexModel([("updated_at", 1), ("_id", 1)], name="updated"),
            REVISION_QUEUE_INDEX,
            # status + equality filter + sort
            IndexModel([("status", 1), ("type", 1), ("deadline_sort", 1), ("_id", 1)], name="status_type_deadline"),
            IndexModel([("status", 1), ("organisation_id", 1), ("deadline_sort", 1), ("_id", 1)], name="status_org_deadline"),
            IndexModel([("status", 1), ("eligibility.countries", 1), ("deadline_sort", 1)], name="status_country_deadline"),
            # multikey filters
            IndexModel([("status", 1), ("industries", 1), ("deadline_sort", 1)], name="status_industries"),
            IndexModel([("status", 1), ("eligibility.stages", 1), ("deadline_sort", 1)], name="status_stages"),
            IndexModel([("status", 1), ("tags", 1), ("deadline_sort", 1)], name="status_tags"),
            IndexModel([("status", 1), ("sdgs", 1), ("deadline_sort", 1)], name="status_sdgs"),
            IndexModel([("status", 1), ("target_communities", 1), ("deadline_sort", 1)], name="status_communities"),
            IndexModel([("status", 1), ("search_tokens", 1)], name="status_search"),
            IndexModel([("status", 1), ("featured", 1), ("deadline_sort", 1)], name="status_featured"),
            IndexModel([("status", 1), ("amount_max", 1)], name="status_amount"),
            *INGESTION_INDEXES,
        ]  # fmt: skip
