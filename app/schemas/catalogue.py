"""Schemas shared by opportunities and events: common input fields, the list query, and
the read-side pieces (organisation reference, tombstones, revisions, facets)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import to_jsonable_python

from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.revision import RevisionOutcome
from app.schemas.common import InputModel, PatchModel, error_responses
from app.schemas.construct import construct, document_values
from app.schemas.query import PageQuery, QueryError, SlugFilter
from app.schemas.validators import CountryCode, Slug, SlugList, UtcDatetime
from app.utils.text import tokens

if TYPE_CHECKING:
    from app.services.catalogue import ItemView, Listing, Rows

R = TypeVar("R", bound=BaseModel)

RELEVANCE = "relevance"  # a sort every kind offers: by how well the item matches `q`
SYNC_SORT = "updated"  # the only sort with `updated_since` (incremental sync)
# Sorts and facets every kind offers; each kind's query names its own besides these.
SharedSort = Literal["newest", "updated", "relevance"]
SharedFacet = Literal["type", "industries", "sdgs", "tags", "target_communities"]


class OrganisationRef(BaseModel):
    id: str
    name: str
    slug: str

    @classmethod
    def of(cls, item: CatalogueItem) -> OrganisationRef:
        return construct(
            cls,
            {
                "id": str(item.organisation_id),
                "name": item.organisation_name,
                "slug": item.organisation_slug,
            },
        )


class FacetCount(BaseModel):
    value: str
    count: int


class CatalogueCreateFields(InputModel):
    title: str = Field(min_length=3, max_length=200)
    slug: Slug | None = None
    description: str = Field(default="", max_length=50000, description="Rich text; sanitised.")
    organisation_id: str = Field(min_length=1, max_length=64)
    tags: SlugList = Field(default_factory=list)
    industries: SlugList = Field(default_factory=list)
    sdgs: SlugList = Field(default_factory=list)
    target_communities: SlugList = Field(default_factory=list)


class CatalogueUpdateFields(PatchModel):
    title: str | None = Field(default=None, min_length=3, max_length=200)
    description: str | None = Field(default=None, max_length=50000)
    tags: SlugList | None = None
    industries: SlugList | None = None
    sdgs: SlugList | None = None
    target_communities: SlugList | None = None


class RejectRequest(InputModel):
    reason: str = Field(min_length=3, max_length=2000)


class ReasonRequest(InputModel):
    reason: str | None = Field(default=None, max_length=2000)


def _plain(value: Any) -> Any:
    return to_jsonable_python(value, fallback=str)


class CatalogueQuery(PageQuery):
    """The parameters every catalogue list takes. Each kind's query adds its own filters
    and narrows `sort` and `facets` to the closed sets it offers (enums in the spec).
    Fields are validated in this order, so a sort or facet problem is reported first."""

    status: ItemStatus | None = Field(
        default=None,
        description="Default published. Other statuses: staff, or your own organisations' items.",
    )
    updated_since: UtcDatetime | None = Field(
        default=None,
        description="Changed after this time, including items that left the public set.",
    )
    sort: str | None = None  # narrowed by each kind
    facets: Sequence[str] = ()  # narrowed by each kind
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Free text; accent- and case-insensitive.",
    )
    type: SlugFilter = Field(default_factory=list, description="Type slugs (any of).")
    industries: SlugFilter = Field(default_factory=list)
    tags: SlugFilter = Field(default_factory=list)
    sdgs: SlugFilter = Field(default_factory=list)
    target_communities: SlugFilter = Field(default_factory=list)
    organisation: str | None = Field(
        default=None, max_length=80, description="Organisation id or slug."
    )
    country: CountryCode | None = None
    region: str | None = Field(default=None, max_length=120)

    @property
    def near(self) -> tuple[float, float, float] | None:
        """(lat, lng, radius in km) for kinds that can be searched near a point."""
        return None

    @field_validator("sort")
    @classmethod
    def _sync_sort(cls, sort: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("updated_since") is not None and sort not in (None, SYNC_SORT):
            raise QueryError(
                "INVALID_SORT", "updated_since lists in the order of change: sort=updated."
            )
        return sort

    @field_validator("q")
    @classmethod
    def _searchable(cls, q: str | None) -> str | None:
        if q is not None and not tokens(q):
            raise QueryError("INVALID_QUERY", "The search text has no searchable words.")
        return q

    @model_validator(mode="after")
    def _relevance_needs_q(self) -> CatalogueQuery:
        if self.sort == RELEVANCE and not self.q:
            raise QueryError("INVALID_SORT", "sort=relevance needs q.")
        return self


class ItemTombstone(BaseModel):
    """An item you can no longer see (it left the public set): only its id, status and
    when that happened. Incremental sync (`updated_since`) and `/me` lists return these."""

    model_config = ConfigDict(extra="forbid")

    id: str
    status: ItemStatus
    updated_at: datetime

    @classmethod
    def of(cls, item: CatalogueItem) -> ItemTombstone:
        return cls(id=str(item.id), status=item.status, updated_at=item.updated_at)


class FieldChange(BaseModel):
    before: Any = Field(description="What readers see now.")
    after: Any = Field(description="What the revision proposes.")


class RevisionRead(BaseModel):
    """A member's edit to approved content, waiting for staff. Its organisation and staff only."""

    id: str
    item_id: str
    item_version: int = Field(description="Send it as If-Match to approve, reject or withdraw.")
    changes: dict[str, FieldChange] = Field(description="Field by field, live vs proposed.")
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, item: CatalogueItem) -> RevisionRead | None:
        revision = item.pending_revision
        if revision is None:
            return None
        return cls(
            id=str(revision.id),
            item_id=str(item.id),
            item_version=item.version,
            changes={
                name: FieldChange(before=_plain(getattr(item, name)), after=_plain(value))
                for name, value in sorted(revision.changes.items())
            },
            created_by=str(revision.created_by),
            updated_by=str(revision.updated_by),
            created_at=revision.created_at,
            updated_at=revision.updated_at,
        )


class RevisionDecisionRead(BaseModel):
    """What became of the last pending revision (its organisation and staff only)."""

    revision_id: str
    outcome: RevisionOutcome
    reason: str | None
    decided_at: datetime

    @classmethod
    def of(cls, item: CatalogueItem) -> RevisionDecisionRead | None:
        d = item.revision_decision
        if d is None:
            return None
        return cls(
            revision_id=str(d.revision_id),
            outcome=d.outcome,
            reason=d.reason,
            decided_at=d.decided_at,
        )


class CatalogueItemRead(BaseModel):
    """What every catalogue item reads as; each kind's read model adds its own fields."""

    id: str
    slug: str
    title: str
    description: str
    type: str
    organisation: OrganisationRef
    tags: list[str]
    industries: list[str]
    sdgs: list[str]
    target_communities: list[str]
    status: ItemStatus
    status_reason: str | None = None
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


def item_fields(view: ItemView[Any]) -> dict[str, Any]:
    """`CatalogueItemRead`'s fields of a view, for `construct` (no validation: the data is
    our own document's). Reasons and revisions only for those who manage it."""
    i, manages = view.item, view.manages
    d = document_values(i)
    return {
        "id": str(d["id"]),
        "slug": d["slug"],
        "title": d["title"],
        "description": d["description"],
        "type": d["type"],
        "organisation": construct(
            OrganisationRef,
            {
                "id": str(d["organisation_id"]),
                "name": d["organisation_name"],
                "slug": d["organisation_slug"],
            },
        ),
        "tags": d["tags"],
        "industries": d["industries"],
        "sdgs": d["sdgs"],
        "target_communities": d["target_communities"],
        "status": view.status,
        "status_reason": d["status_reason"] if manages else None,
        "cover_media_id": str(d["cover_media_id"]) if d["cover_media_id"] else None,
        "published_at": d["published_at"],
        "created_at": d["created_at"],
        "updated_at": d["updated_at"],
        "version": d["version"],
        "pending_revision": RevisionRead.of(i) if manages else None,
        "revision_decision": RevisionDecisionRead.of(i) if manages else None,
    }


def present(view: ItemView[Any], read: Callable[[ItemView[Any]], R]) -> R | ItemTombstone:
    """The view presented by `read`, or as a tombstone when it is gone."""
    return ItemTombstone.of(view.item) if view.gone else read(view)


def present_rows(
    rows: Rows[Any, Any], read: Callable[[ItemView[Any]], R]
) -> list[tuple[Any, R | ItemTombstone]]:
    """The caller's own rows, each with its item presented (or its tombstone)."""
    return [(row, present(view, read)) for row, view in rows.rows]


class CataloguePage(BaseModel):
    """What a kind's list page adds to `Page`: facet counts, and `from_listing` (the kind's
    page class names its read model's presenter as `item_read`)."""

    item_read: ClassVar[Callable[[ItemView[Any]], BaseModel]]
    facets: dict[str, list[FacetCount]] | None = Field(
        default=None, description="Counts per value for the current filter (`facets=`)."
    )

    @classmethod
    def from_listing(cls, listing: Listing[Any]) -> Self:
        facets = listing.facets
        return construct(
            cls,
            {
                "items": [present(v, cls.item_read) for v in listing.views],
                "next_cursor": listing.next_cursor,
                "total": listing.total,
                "facets": None
                if facets is None
                else {
                    name: [FacetCount.model_validate(c) for c in counts]
                    for name, counts in facets.items()
                },
            },
        )


def edit_responses(read_model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """A PATCH of an item: 200 live, or 202 when a member's change waits for staff."""
    return {
        202: {
            "model": read_model,
            "description": "Accepted: changes to moderated fields wait for staff as the item's "
            "pending revision (see `pending_revision`); what is live did not change.",
        },
        **error_responses(401, 403, 404, 409, 412),
    }
