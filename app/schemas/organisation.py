"""Organisation and partnership schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from app.core.pagination import Page
from app.models.organisation import (
    Organisation,
    OrganisationType,
    OrgRole,
    Partnership,
    PartnerStatus,
    PartnerTier,
)
from app.schemas.common import InputModel, PatchModel
from app.schemas.query import PageQuery, QueryError, coded
from app.schemas.validators import CountryCode, Email, Slug, Url
from app.utils.text import tokens


class MemberRead(BaseModel):
    user_id: str
    role: OrgRole
    added_at: datetime


class OrganisationRead(BaseModel):
    id: str
    name: str
    slug: str
    type: OrganisationType
    description: str
    website: str | None
    country: str | None
    logo_media_id: str | None
    archived: bool
    created_at: datetime
    updated_at: datetime
    version: int
    members: list[MemberRead] | None = Field(
        default=None, description="Only for members of the organisation, staff and admins."
    )

    @classmethod
    def from_doc(cls, org: Organisation, *, show_members: bool) -> OrganisationRead:
        return cls(
            id=str(org.id),
            name=org.name,
            slug=org.slug,
            type=org.type,
            description=org.description,
            website=org.website,
            country=org.country,
            logo_media_id=str(org.logo_media_id) if org.logo_media_id else None,
            archived=org.archived,
            created_at=org.created_at,
            updated_at=org.updated_at,
            version=org.version,
            members=[
                MemberRead(user_id=str(m.user_id), role=m.role, added_at=m.added_at)
                for m in org.members
            ]
            if show_members
            else None,
        )


class OrganisationPage(Page[OrganisationRead]):
    """A page of organisations."""


class OrganisationCreate(InputModel):
    name: str = Field(min_length=2, max_length=120)
    slug: Slug | None = None
    type: OrganisationType
    description: str = Field(default="", max_length=20000)
    website: Url | None = None
    country: CountryCode | None = None


class OrganisationUpdate(PatchModel):
    nullable = frozenset({"website", "country"})
    name: str | None = Field(default=None, min_length=2, max_length=120)
    type: OrganisationType | None = None
    description: str | None = Field(default=None, max_length=20000)
    website: Url | None = None
    country: CountryCode | None = None


class PartnerContactSchema(InputModel):
    name: str = Field(min_length=1, max_length=120)
    email: Email
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+() .-]{5,40}$")


class PartnerContactRead(BaseModel):
    """As stored (read models never re-validate what was accepted once)."""

    name: str
    email: str
    phone: str | None = None


class PartnershipRead(BaseModel):
    id: str
    organisation_id: str
    organisation_name: str
    organisation_slug: str
    tier: PartnerTier
    status: PartnerStatus
    start_date: date
    end_date: date | None
    contact: PartnerContactRead | None = Field(
        default=None, description="Only for staff and admins."
    )
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def from_doc(cls, p: Partnership, *, show_contact: bool) -> PartnershipRead:
        return cls(
            id=str(p.id),
            organisation_id=str(p.organisation_id),
            organisation_name=p.organisation_name,
            organisation_slug=p.organisation_slug,
            tier=p.tier,
            status=p.status,
            start_date=p.start_date.date(),
            end_date=p.end_date.date() if p.end_date else None,
            contact=PartnerContactRead.model_validate(p.contact.model_dump())
            if show_contact
            else None,
            created_at=p.created_at,
            updated_at=p.updated_at,
            version=p.version,
        )


class PartnershipPage(Page[PartnershipRead]):
    """A page of partnerships."""


class PartnershipCreate(InputModel):
    organisation_id: str = Field(min_length=1, max_length=64)
    tier: PartnerTier
    status: PartnerStatus = PartnerStatus.pending
    contact: PartnerContactSchema
    start_date: date
    end_date: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> PartnershipCreate:
        if self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class PartnershipUpdate(PatchModel):
    nullable = frozenset({"end_date"})
    tier: PartnerTier | None = None
    status: PartnerStatus | None = None
    contact: PartnerContactSchema | None = None
    start_date: date | None = None
    end_date: date | None = None


OrganisationSort = Literal["name", "newest"]


class OrganisationQuery(PageQuery):
    error_codes: ClassVar[tuple[str, ...]] = (
        *PageQuery.error_codes,
        "INVALID_SORT",
        "INVALID_QUERY",
    )
    type: OrganisationType | None = None
    country: CountryCode | None = None
    q: str | None = Field(default=None, max_length=200)
    mine: bool = Field(default=False, description="Only organisations I belong to.")
    sort: Annotated[OrganisationSort, coded("INVALID_SORT")] = "name"

    @field_validator("q")
    @classmethod
    def _searchable(cls, q: str | None) -> str | None:
        if q and not tokens(q):
            raise QueryError("INVALID_QUERY", "The search text has no searchable words.")
        return q


class PartnerQuery(PageQuery):
    tier: PartnerTier | None = None


class AdminPartnerQuery(PageQuery):
    status: PartnerStatus | None = None
