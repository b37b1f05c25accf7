"""Events: workshops, networking, conferences — with RSVPs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from pymongo import IndexModel

from app.models.catalogue import INGESTION_INDEXES, REVISION_QUEUE_INDEX, CatalogueItem


class EventFormat(StrEnum):
    in_person = "in_person"
    online = "online"
    hybrid = "hybrid"


class Venue(BaseModel):
    name: str | None = None
    address: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    lat: float | None = None
    lng: float | None = None


class Event(CatalogueItem):
    type: str
    start_at: datetime
    end_at: datetime
    timezone: str
    format: EventFormat
    venue: Venue | None = None
    online_url: str | None = None
    capacity: int | None = None
    registration_deadline: datetime | None = None
    price: int = 0  # minor units; 0 = free
    currency: str | None = None
    going_count: int = 0
    waitlist_count: int = 0
    interested_count: int = 0
    waitlist_seq: int = 0

    class Settings:
        name = "events"
        indexes = [
            IndexModel([("slug", 1)], unique=True, name="slug_unique"),
            IndexModel([("status", 1), ("start_at", 1), ("_id", 1)], name="status_start"),
            IndexModel([("status", 1), ("published_at", -1), ("_id", -1)], name="status_newest"),
            IndexModel([("updated_at", 1), ("_id", 1)], name="updated"),
            REVISION_QUEUE_INDEX,
            IndexModel([("status", 1), ("type", 1), ("start_at", 1), ("_id", 1)], name="status_type_start"),
            IndexModel([("status", 1), ("organisation_id", 1), ("start_at", 1), ("_id", 1)], name="status_org_start"),
            IndexModel([("status", 1), ("venue.country", 1), ("start_at", 1)], name="status_country_start"),
            IndexModel([("status", 1), ("venue.lat", 1), ("venue.lng", 1)], name="status_geo_box"),
            IndexModel([("status", 1), ("industries", 1), ("start_at", 1)], name="status_industries"),
            IndexModel([("status", 1), ("tags", 1), ("start_at", 1)], name="status_tags"),
            IndexModel([("status", 1), ("sdgs", 1), ("start_at", 1)], name="status_sdgs"),
            IndexModel([("status", 1), ("target_communities", 1), ("start_at", 1)], name="status_communities"),
            IndexModel([("status", 1), ("search_tokens", 1)], name="status_search"),
            IndexModel([("status", 1), ("format", 1), ("start_at", 1)], name="status_format"),
            *INGESTION_INDEXES,
        ]  # fmt: skip
