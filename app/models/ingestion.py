"""Ingestion: sources polled on a schedule, their runs, the upsert key of every ingested or
imported entry, and suggested duplicates."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from app.models.base import Timestamps, utcnow
from app.models.task import DUE_WORK_INDEX, DueWork

SourceKind = Literal["feed", "ical", "csv", "grants_gov", "jsonld"]
TargetKind = Literal["opportunity", "event"]
RunTrigger = Literal["schedule", "manual"]
RunStatus = Literal["queued", "running", "succeeded", "failed"]
EntryOutcome = Literal["created", "updated", "revised", "unchanged", "skipped", "error"]
DuplicateTier = Literal["external_id", "url", "fuzzy", "text"]
DuplicateState = Literal["open", "merged", "dismissed"]


class SourceDefaults(BaseModel):
    """What every entry of a source gets unless it says otherwise."""

    type: str | None = None
    tags: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    sdgs: list[str] = Field(default_factory=list)
    target_communities: list[str] = Field(default_factory=list)
    currency: str | None = None
    timezone: str | None = None  # for floating times and date-only deadlines
    format: str | None = None  # events: in_person, online, hybrid
    country: str | None = None
    # external category (folded) -> one of our tag slugs
    category_map: dict[str, str] = Field(default_factory=dict)


class Source(Document, Timestamps, DueWork):
    name: str
    kind: SourceKind
    target: TargetKind
    url: str
    organisation_id: PydanticObjectId
    defaults: SourceDefaults = Field(default_factory=SourceDefaults)
    interval_minutes: int = 360
    enabled: bool = True
    created_by: PydanticObjectId
    # conditional GET validators of the last successful fetch
    etag: str | None = None
    last_modified: str | None = None
    last_run_id: PydanticObjectId | None = None
    last_run_at: datetime | None = None
    version: int = 1

    class Settings:
        name = "ingest_sources"
        indexes = [
            DUE_WORK_INDEX,
            IndexModel([("created_at", -1), ("_id", -1)], name="newest"),
        ]


class EntryReport(BaseModel):
    external_id: str
    outcome: EntryOutcome
    item_id: str | None = None
    reason: str | None = None


class RunCounts(BaseModel):
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    skipped: int = 0
    errors: int = 0
    missing: int = 0


MAX_REPORTED_ENTRIES = 500


class SourceRun(Document):
    """One run of a source. `key` makes a run happen once: `<source>:<due time>` for a
    scheduled run (the period claimed), `<source>:manual:<id>` for one asked for."""

    key: str
    source_id: PydanticObjectId
    trigger: RunTrigger
    status: RunStatus = "queued"
    requested_by: PydanticObjectId | None = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: int | None = None
    not_modified: bool = False
    counts: RunCounts = Field(default_factory=RunCounts)
    # entries that were not simply created or unchanged (skips, errors, revisions…), bounded
    entries: list[EntryReport] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)  # external ids gone from the source
    error: str | None = None
    claim_until: datetime | None = None

    class Settings:
        name = "ingest_runs"
        indexes = [
            IndexModel([("key", 1)], unique=True, name="key_unique"),
            IndexModel([("source_id", 1), ("created_at", -1), ("_id", -1)], name="source_newest"),
        ]


class IngestedEntry(Document):
    """The upsert key of one entry: (origin, external id) -> the item made from it, with the
    mapped fields and their hash as last seen (a re-run compares against these)."""

    origin: str  # "source:<id>" or "import:<kind>"
    external_id: str
    target: TargetKind
    item_id: PydanticObjectId
    item_created: bool = False  # set once the item exists (a crash in between is repaired)
    content_hash: str
    fields: dict[str, Any] = Field(default_factory=dict)
    last_run_id: PydanticObjectId | None = None
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "ingest_entries"
        indexes = [
            IndexModel([("origin", 1), ("external_id", 1)], unique=True, name="origin_external"),
            IndexModel([("origin", 1), ("last_run_id", 1)], name="origin_run"),
        ]


class DuplicateSuggestion(Document):
    """Two items that look like one, suggested to staff (never merged silently). `pair` is
    the sorted pair of ids: unique, so a pair is suggested once (a dismissed one stays so)."""

    target: TargetKind
    pair: str
    item_ids: list[PydanticObjectId]
    tier: DuplicateTier
    score: float
    reason: str
    state: DuplicateState = "open"
    kept_id: PydanticObjectId | None = None
    decided_by: PydanticObjectId | None = None
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "ingest_duplicates"
        indexes = [
            IndexModel([("pair", 1)], unique=True, name="pair_unique"),
            IndexModel([("state", 1), ("created_at", -1), ("_id", -1)], name="state_newest"),
            IndexModel([("item_ids", 1)], name="items"),
        ]
