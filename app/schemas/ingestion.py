"""Ingestion and bulk data: sources and their runs, duplicate suggestions, imports."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from app.core.pagination import Page
from app.models.ingestion import (
    DuplicateState,
    DuplicateTier,
    EntryOutcome,
    RunStatus,
    RunTrigger,
    SourceKind,
    TargetKind,
)
from app.models.provenance import Provenance
from app.schemas.catalogue import CatalogueQuery
from app.schemas.common import InputModel, PatchModel
from app.schemas.event import EventQuery
from app.schemas.opportunity import OpportunityQuery
from app.schemas.query import PageQuery, QueryError
from app.schemas.validators import CountryCode, CurrencyCode, Slug, SlugList, TimeZoneName, Url
from app.utils.text import fold

if TYPE_CHECKING:
    from app.models.catalogue import CatalogueItem
    from app.models.ingestion import DuplicateSuggestion, Source, SourceRun

# Which kinds of item each source format can produce.
TARGETS: dict[str, frozenset[str]] = {
    "feed": frozenset({"opportunity", "event"}),
    "csv": frozenset({"opportunity", "event"}),
    "ical": frozenset({"event"}),
    "jsonld": frozenset({"event"}),
    "grants_gov": frozenset({"opportunity"}),
}


class SourceDefaultsSchema(InputModel):
    type: Slug | None = None
    tags: SlugList = Field(default_factory=list)
    industries: SlugList = Field(default_factory=list)
    sdgs: SlugList = Field(default_factory=list)
    target_communities: SlugList = Field(default_factory=list)
    currency: CurrencyCode | None = None
    timezone: TimeZoneName | None = Field(
        default=None, description="For floating times and date-only deadlines."
    )
    format: Literal["in_person", "online", "hybrid"] | None = None
    country: CountryCode | None = None
    category_map: dict[Annotated[str, Field(min_length=1, max_length=100)], Slug] = Field(
        default_factory=dict,
        max_length=200,
        description="External category (case-insensitive) → one of our tag slugs.",
    )

    @field_validator("category_map")
    @classmethod
    def _folded_keys(cls, value: dict[str, str]) -> dict[str, str]:
        """Categories are matched accent- and case-insensitively."""
        return {" ".join(fold(k).split()): v for k, v in value.items()}


class SourceDefaultsRead(BaseModel):
    type: str | None
    tags: list[str]
    industries: list[str]
    sdgs: list[str]
    target_communities: list[str]
    currency: str | None
    timezone: str | None
    format: str | None
    country: str | None
    category_map: dict[str, str]


class SourceCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    kind: SourceKind = Field(
        description="`feed` (RSS 2.0 / Atom), `ical`, `csv`, `grants_gov` (XML extract), "
        "`jsonld` (a page with schema.org Event JSON-LD)."
    )
    target: TargetKind = Field(description="What its entries become.")
    url: Url
    organisation_id: str = Field(min_length=1, max_length=64)
    defaults: SourceDefaultsSchema = Field(default_factory=SourceDefaultsSchema)
    interval_minutes: int = Field(default=360, ge=15, le=10080, description="How often it runs.")
    enabled: bool = True

    @model_validator(mode="after")
    def _target_fits(self) -> SourceCreate:
        if self.target not in TARGETS[self.kind]:
            raise ValueError(f"a {self.kind} source makes {', '.join(sorted(TARGETS[self.kind]))}")
        return self


class SourceUpdate(PatchModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    url: Url | None = None
    defaults: SourceDefaultsSchema | None = None
    interval_minutes: int | None = Field(default=None, ge=15, le=10080)
    enabled: bool | None = None


class SourceRead(BaseModel):
    id: str
    name: str
    kind: SourceKind
    target: TargetKind
    url: str
    organisation_id: str
    defaults: SourceDefaultsRead
    interval_minutes: int
    enabled: bool
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_run_id: str | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def from_doc(cls, s: Source) -> SourceRead:
        return cls(
            id=str(s.id),
            name=s.name,
            kind=s.kind,
            target=s.target,
            url=s.url,
            organisation_id=str(s.organisation_id),
            defaults=SourceDefaultsRead(**s.defaults.model_dump()),
            interval_minutes=s.interval_minutes,
            enabled=s.enabled,
            next_run_at=s.due_at if s.enabled else None,
            last_run_at=s.last_run_at,
            last_run_id=str(s.last_run_id) if s.last_run_id else None,
            created_at=s.created_at,
            updated_at=s.updated_at,
            version=s.version,
        )


class SourcePage(Page[SourceRead]):
    """Sources, newest first."""


class SourceQuery(PageQuery):
    kind: SourceKind | None = None
    enabled: bool | None = None


class EntryReportRead(BaseModel):
    external_id: str
    outcome: EntryOutcome
    item_id: str | None
    reason: str | None


class RunCountsRead(BaseModel):
    fetched: int
    created: int
    updated: int
    unchanged: int
    duplicates: int = Field(description="New duplicate suggestions.")
    skipped: int
    errors: int
    missing: int = Field(description="Entries seen before that the source no longer lists.")


class RunRead(BaseModel):
    id: str
    source_id: str
    trigger: RunTrigger
    status: RunStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    not_modified: bool = Field(description="The source answered 304: nothing to do.")
    counts: RunCountsRead
    entries: list[EntryReportRead] = Field(
        description="Entries not simply created or unchanged, each with its reason (≤ 500)."
    )
    missing: list[str] = Field(description="External ids no longer listed (≤ 500 shown).")
    error: str | None

    @classmethod
    def from_doc(cls, r: SourceRun) -> RunRead:
        return cls(
            id=str(r.id),
            source_id=str(r.source_id),
            trigger=r.trigger,
            status=r.status,
            created_at=r.created_at,
            started_at=r.started_at,
            finished_at=r.finished_at,
            duration_ms=r.duration_ms,
            not_modified=r.not_modified,
            counts=RunCountsRead(**r.counts.model_dump()),
            entries=[EntryReportRead(**e.model_dump()) for e in r.entries],
            missing=r.missing,
            error=r.error,
        )


class RunPage(Page[RunRead]):
    """A source's runs, newest first."""


class DuplicateQuery(PageQuery):
    state: DuplicateState = "open"
    target: TargetKind | None = None
    tier: DuplicateTier | None = None


class DuplicateItemRead(BaseModel):
    id: str
    slug: str
    title: str
    status: str
    organisation_name: str
    created_at: datetime
    provenance: Provenance | None


class DuplicateRead(BaseModel):
    id: str
    target: TargetKind
    tier: DuplicateTier = Field(
        description="Why: `external_id`, `url` (canonical link), `fuzzy` (organisation + "
        "title + date), `text` (near-identical text)."
    )
    score: float = Field(ge=0, le=1)
    reason: str
    state: DuplicateState
    item_ids: list[str]
    items: list[DuplicateItemRead]
    kept_id: str | None
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, s: DuplicateSuggestion, items: list[CatalogueItem] | None = None) -> DuplicateRead:
        return cls(
            id=str(s.id),
            target=s.target,
            tier=s.tier,
            score=s.score,
            reason=s.reason,
            state=s.state,
            item_ids=[str(i) for i in s.item_ids],
            items=[
                DuplicateItemRead(
                    id=str(i.id),
                    slug=i.slug,
                    title=i.title,
                    status=i.status.value,
                    organisation_name=i.organisation_name,
                    created_at=i.created_at,
                    provenance=i.provenance,
                )
                for i in items or []
            ],
            kept_id=str(s.kept_id) if s.kept_id else None,
            created_at=s.created_at,
            decided_at=s.decided_at,
        )


class DuplicatePage(Page[DuplicateRead]):
    """Suggested duplicates, newest first."""


class MergeRequest(InputModel):
    keep: str | None = Field(
        default=None,
        max_length=64,
        description="The id of the item to keep (default: the first of `item_ids`).",
    )


ImportKind = Literal["opportunity", "event"]  # as everywhere else (saved searches, sources…)
ImportFormat = Literal["csv", "jsonl"]


class ImportQuery(BaseModel):
    model_config = {"extra": "forbid"}

    kind: ImportKind
    format: ImportFormat | None = Field(
        default=None, description="Default: from the file name (.csv, .jsonl)."
    )
    dry_run: bool = Field(default=True, description="Report only; `false` writes valid rows.")
    organisation_id: str | None = Field(
        default=None, max_length=64, description="For rows without an organisation_id."
    )


class ImportProblem(BaseModel):
    line: int
    field: str
    error: str


MAX_REPORTED_PROBLEMS = 1000


class ImportReport(BaseModel):
    dry_run: bool
    kind: ImportKind
    rows: int
    valid: int
    invalid: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[ImportProblem] = Field(description="Row by row (at most 1,000).")
    problems_truncated: bool = False
    duration_ms: int


EXPORT_REFUSED = frozenset({"limit", "cursor", "include_total", "facets"})


def _whole_result(query: CatalogueQuery) -> None:
    given = sorted(EXPORT_REFUSED & query.model_fields_set)
    if given:
        raise QueryError(
            "INVALID_QUERY", f"Exports stream every match: {', '.join(given)} do not apply."
        )
    if query.sort == "relevance":
        raise QueryError("INVALID_SORT", "Exports are not sorted by relevance.")


class OpportunityExportQuery(OpportunityQuery):
    """The opportunity list's filters and sorts; every match is exported (no paging)."""

    @model_validator(mode="after")
    def _export(self) -> OpportunityExportQuery:
        _whole_result(self)
        return self


class EventExportQuery(EventQuery):
    """The event list's filters and sorts; every match is exported (no paging)."""

    @model_validator(mode="after")
    def _export(self) -> EventExportQuery:
        _whole_result(self)
        return self
