"""Event and RSVP schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from app.core.pagination import Page
from app.models.catalogue import ItemStatus
from app.models.event import Event, EventFormat
from app.models.interaction import Rsvp, RsvpStatus
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
from app.schemas.validators import CountryCode, CurrencyCode, TimeZoneName, Url, UtcDatetime


class VenueSchema(InputModel):
    name: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    city: str | None = Field(default=None, max_length=120)
    region: str | None = Field(default=None, max_length=120)
    country: CountryCode | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _pair(self) -> VenueSchema:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("lat and lng go together")
        return self


class EventCreate(CatalogueCreateFields):
    type: str = Field(min_length=1, max_length=80)
    start_at: UtcDatetime
    end_at: UtcDatetime
    timezone: TimeZoneName
    format: EventFormat
    venue: VenueSchema | None = None
    online_url: Url | None = None
    capacity: int | None = Field(default=None, ge=1, le=1_000_000)
    registration_deadline: UtcDatetime | None = None
    price: int = Field(default=0, ge=0, description="Minor units; 0 means free.")
    currency: CurrencyCode | None = None

    @model_validator(mode="after")
    def _rules(self) -> EventCreate:
        if self.end_at <= self.start_at:
            raise ValueError("end_at must be after start_at")
        if self.registration_deadline and self.registration_deadline > self.end_at:
            raise ValueError("registration_deadline must not be after end_at")
        if self.price and not self.currency:
            raise ValueError("currency is required for a paid event")
        if self.format is not EventFormat.online and self.venue is None:
            raise ValueError("an in-person or hybrid event needs a venue")
        return self


class EventUpdate(CatalogueUpdateFields):
    nullable = frozenset({"venue", "online_url", "capacity", "registration_deadline", "currency"})
    type: str | None = Field(default=None, min_length=1, max_length=80)
    start_at: UtcDatetime | None = None
    end_at: UtcDatetime | None = None
    timezone: TimeZoneName | None = None
    format: EventFormat | None = None
    venue: VenueSchema | None = None
    online_url: Url | None = None
    capacity: int | None = Field(default=None, ge=1, le=1_000_000)
    registration_deadline: UtcDatetime | None = None
    price: int | None = Field(default=None, ge=0)
    currency: CurrencyCode | None = None


class EventRead(BaseModel):
    id: str
    slug: str
    title: str
    description: str
    type: str
    organisation: OrganisationRef
    start_at: datetime
    end_at: datetime
    timezone: str
    format: EventFormat
    venue: VenueSchema | None
    online_url: str | None = Field(
        default=None, description="Only for organisers and people with a confirmed (going) RSVP."
    )
    capacity: int | None
    registration_deadline: datetime | None
    price: int
    currency: str | None
    is_free: bool
    tags: list[str]
    industries: list[str]
    sdgs: list[str]
    target_communities: list[str]
    status: ItemStatus
    status_reason: str | None = None
    going_count: int
    waitlist_count: int
    interested_count: int
    seats_left: int | None
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
    distance_km: float | None = Field(default=None, description="With `near=` only.")

    @classmethod
    def from_doc(
        cls, e: Event, *, show_link: bool, show_reason: bool, distance_km: float | None = None
    ) -> EventRead:
        return cls(
            id=str(e.id),
            slug=e.slug,
            title=e.title,
            description=e.description,
            type=e.type,
            organisation=OrganisationRef.of(e),
            start_at=e.start_at,
            end_at=e.end_at,
            timezone=e.timezone,
            format=e.format,
            venue=VenueSchema.model_validate(e.venue.model_dump()) if e.venue else None,
            online_url=e.online_url if show_link else None,
            capacity=e.capacity,
            registration_deadline=e.registration_deadline,
            price=e.price,
            currency=e.currency,
            is_free=e.price == 0,
            tags=e.tags,
            industries=e.industries,
            sdgs=e.sdgs,
            target_communities=e.target_communities,
            status=e.status,
            status_reason=e.status_reason if show_reason else None,
            pending_revision=RevisionRead.of(e) if show_reason else None,
            revision_decision=RevisionDecisionRead.of(e) if show_reason else None,
            going_count=e.going_count,
            waitlist_count=e.waitlist_count,
            interested_count=e.interested_count,
            seats_left=max(0, e.capacity - e.going_count) if e.capacity is not None else None,
            cover_media_id=str(e.cover_media_id) if e.cover_media_id else None,
            published_at=e.published_at,
            created_at=e.created_at,
            updated_at=e.updated_at,
            version=e.version,
            distance_km=round(distance_km, 3) if distance_km is not None else None,
        )


class EventPage(Page[EventRead | ItemTombstone]):
    """With `updated_since`, events that left the public set come as tombstones
    (`id`, `status`, `updated_at` only), in the same change order."""

    facets: dict[str, list[FacetCount]] | None = None


class RsvpRequest(InputModel):
    status: RsvpStatus = Field(
        default=RsvpStatus.going, description="`going` or `interested` (`waitlisted` is assigned)."
    )


class RsvpRead(BaseModel):
    event_id: str
    user_id: str
    status: RsvpStatus
    waitlist_position: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_doc(cls, r: Rsvp) -> RsvpRead:
        return cls(
            event_id=str(r.event_id),
            user_id=str(r.user_id),
            status=r.status,
            waitlist_position=r.waitlist_position,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )


class AttendeeRead(RsvpRead):
    full_name: str
    email: str


class AttendeePage(Page[AttendeeRead]):
    """A page of attendees."""


class MyEventRead(BaseModel):
    rsvp: RsvpRead
    event: EventRead | ItemTombstone = Field(
        description="A tombstone when the event is no longer public (e.g. cancelled)."
    )


class MyEventPage(Page[MyEventRead]):
    """My RSVPs with their events."""
