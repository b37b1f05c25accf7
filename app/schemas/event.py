"""Event, RSVP and attendee schemas: bodies, list queries, read models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.core.pagination import Page
from app.models.event import EventFormat
from app.models.interaction import Rsvp, RsvpStatus
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
    present_rows,
)
from app.schemas.common import InputModel
from app.schemas.construct import construct, document_values
from app.schemas.query import PageQuery, coded, split_values
from app.schemas.validators import CountryCode, CurrencyCode, TimeZoneName, Url, UtcDatetime

if TYPE_CHECKING:
    from app.models.event import Event
    from app.models.user import User
    from app.services.catalogue import ItemView, Rows

EventSort = Literal["start", SharedSort]
EventFacet = Literal[SharedFacet, "country", "format"]


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


class VenueRead(BaseModel):
    name: str | None
    address: str | None
    city: str | None
    region: str | None
    country: str | None
    lat: float | None
    lng: float | None


class EventCreate(CatalogueCreateFields):
    """Rules across fields (end after start, registration before the end, a paid event has
    a currency, an in-person event a venue) are the event rule function's
    (`services/events/kind.py`), for create and update alike."""

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


class EventRead(CatalogueItemRead):
    start_at: datetime
    end_at: datetime
    timezone: str
    format: EventFormat
    venue: VenueRead | None
    online_url: str | None = Field(
        default=None, description="Only for organisers and people with a confirmed (going) RSVP."
    )
    capacity: int | None
    registration_deadline: datetime | None
    price: int
    currency: str | None
    is_free: bool
    going_count: int
    waitlist_count: int
    interested_count: int
    seats_left: int | None
    distance_km: float | None = Field(default=None, description="With `near=` only.")

    @classmethod
    def from_view(cls, view: ItemView[Event]) -> EventRead:
        """Built from our own document: nothing is validated again on the way out."""
        e = document_values(view.item)
        capacity, going, venue = e["capacity"], e["going_count"], e["venue"]
        return construct(
            cls,
            {
                **item_fields(view),
                "start_at": e["start_at"],
                "end_at": e["end_at"],
                "timezone": e["timezone"],
                "format": e["format"],
                "venue": construct(VenueRead, vars(venue).copy()) if venue else None,
                "online_url": e["online_url"] if view.insider else None,
                "capacity": capacity,
                "registration_deadline": e["registration_deadline"],
                "price": e["price"],
                "currency": e["currency"],
                "is_free": e["price"] == 0,
                "going_count": going,
                "waitlist_count": e["waitlist_count"],
                "interested_count": e["interested_count"],
                "seats_left": max(0, capacity - going) if capacity is not None else None,
                "distance_km": round(view.distance_km, 3) if view.distance_km is not None else None,
            },
        )


class EventPage(Page[EventRead | ItemTombstone], CataloguePage):
    """With `updated_since`, events that left the public set come as tombstones
    (`id`, `status`, `updated_at` only), in the same change order."""

    item_read: ClassVar[Callable[[ItemView[Any]], BaseModel]] = EventRead.from_view


class EventQuery(CatalogueQuery):
    """`GET /events`. `near_lat`, `near_lng` and `radius_km` go together."""

    format: Annotated[list[EventFormat], BeforeValidator(split_values)] = Field(
        default_factory=list, max_length=3
    )
    city: str | None = Field(default=None, max_length=120)
    start_from: UtcDatetime | None = None
    start_to: UtcDatetime | None = None
    open_now: bool = Field(default=False, description="Not over and registration open.")
    free: bool | None = None
    near_lat: float | None = Field(default=None, ge=-90, le=90)
    near_lng: float | None = Field(default=None, ge=-180, le=180)
    radius_km: float | None = Field(default=None, gt=0, le=20000, validate_default=True)
    sort: Annotated[EventSort | None, coded("INVALID_SORT")] = Field(
        default=None,
        description="`start` (default), `newest`, `updated`, `relevance` (default with `q`).",
    )
    facets: Annotated[list[EventFacet], BeforeValidator(split_values), coded("INVALID_FACET")] = (
        Field(default_factory=list, max_length=10, description="Counts per value, e.g. format.")
    )

    @field_validator("radius_km")
    @classmethod
    def _near_together(cls, radius_km: float | None, info: ValidationInfo) -> float | None:
        parts = (info.data.get("near_lat"), info.data.get("near_lng"), radius_km)
        given = [p is not None for p in parts]
        if {"near_lat", "near_lng"} <= set(info.data) and any(given) and not all(given):
            raise ValueError("near_lat, near_lng and radius_km go together: give all three")
        return radius_km

    @property
    def near(self) -> tuple[float, float, float] | None:
        if self.near_lat is None or self.near_lng is None or self.radius_km is None:
            return None
        return self.near_lat, self.near_lng, self.radius_km


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
        return cls.model_construct(
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

    @classmethod
    def from_row(cls, r: Rsvp, user: User | None) -> AttendeeRead:
        return cls.model_construct(
            **dict(RsvpRead.from_doc(r)),
            full_name=user.full_name if user else "",
            email=user.email if user else "",
        )


class AttendeePage(Page[AttendeeRead]):
    """A page of attendees."""


class AttendeeQuery(PageQuery):
    status: RsvpStatus | None = None


class MyEventRead(BaseModel):
    rsvp: RsvpRead
    event: EventRead | ItemTombstone = Field(
        description="A tombstone when the event is no longer public (e.g. cancelled)."
    )


class MyEventPage(Page[MyEventRead]):
    """My RSVPs with their events."""

    @classmethod
    def from_rows(cls, rows: Rows[Rsvp, Event]) -> MyEventPage:
        items = [
            MyEventRead.model_construct(rsvp=RsvpRead.from_doc(r), event=event)
            for r, event in present_rows(rows, EventRead.from_view)
        ]
        return cls(items=items, next_cursor=rows.next_cursor, total=rows.total)
