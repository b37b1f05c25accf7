"""What a catalogue kind is (opportunities, events, and whatever comes next): its document,
names, sorts and facets, and the hooks where kinds differ. The catalogue's modules are
written against this object only; nothing in them names a kind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from beanie import Document, PydanticObjectId

from app.core.exceptions import NotFound, ValidationFailed
from app.core.pagination import SortSpec
from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.media import MediaOwnerKind
from app.models.reference import ReferenceKind
from app.services import signals
from app.services.catalogue.viewer import Viewer

T = TypeVar("T", bound=CatalogueItem)

# Reference lists every item has, and the reference kind each takes its slugs from.
REFERENCE_LISTS = (
    ("tags", ReferenceKind.tags),
    ("industries", ReferenceKind.industries),
    ("sdgs", ReferenceKind.sdgs),
    ("target_communities", ReferenceKind.target_communities),
)

# The rule function: over the state after a change (`current` + `changes`; `current` is None
# on create), raise ValidationFailed for what may not be, and return what the change implies
# (e.g. switching to rolling drops the deadline). Pure: it never changes its inputs.
Rules = Callable[[T | None, Mapping[str, Any]], dict[str, Any]]


def sorts(default: SortSpec) -> dict[str, SortSpec]:
    """A kind's sorts: its own default, newest (by publication) and updated (the order of
    incremental sync). `relevance` (with `q`) is every kind's too, computed, not stored."""
    return {
        default.name: default,
        "newest": SortSpec("newest", "published_at", -1, nullable=True),
        "updated": SortSpec("updated", "updated_at", 1),
    }


def facets(**own: tuple[str, bool]) -> dict[str, tuple[str, bool]]:
    """The facets every kind offers plus its own: name -> (field, whether it is an array)."""
    shared = {name: (name, True) for name, _ in REFERENCE_LISTS}
    return {"type": ("type", False), **shared, **own}


# What readers rely on in every kind; each adds its own (a member's change waits for staff).
MODERATED = frozenset({"title", "description", "type"})


def no_rules(current: Any, changes: Mapping[str, Any]) -> dict[str, Any]:
    return {}


def nothing_derived(item: Any) -> dict[str, Any]:
    return {}


def stored_status(item: CatalogueItem) -> ItemStatus:
    return item.status


def no_filters(query: Any) -> list[dict[str, Any]]:
    return []


async def no_insiders(who: Viewer, items: list[Any]) -> set[PydanticObjectId]:
    return set()


def reject(problems: list[str]) -> None:
    """Raise the one 422 a rule function raises: every problem, each with its message."""
    if problems:
        raise ValidationFailed(
            "; ".join(problems),
            details=[{"loc": ["body"], "msg": p, "type": "value_error"} for p in problems],
        )


def merged(current: CatalogueItem | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The state a rule function judges: the item as it will be after `changes`."""
    return {**current.model_dump(), **changes} if current is not None else dict(changes)


@dataclass(frozen=True)
class CatalogueKind(Generic[T]):
    model: type[T]
    entity: str  # "opportunity"; its error codes start with the upper case (OPPORTUNITY_…)
    type_kind: ReferenceKind
    sorts: dict[str, SortSpec]  # the first is the default (see `sorts()`)
    facet_fields: dict[str, tuple[str, bool]]  # facet name -> (field, is_array)
    country_field: str  # what the `country` and `region` filters match
    region_field: str
    media_owner: MediaOwnerKind  # covers attach to items of this kind
    text_fields: tuple[str, ...] = ("title", "description")
    # Duplicate detection and the freshness check: the item's own link (besides the page it
    # was ingested from) and the date that, with the title, identifies it.
    link_field: str | None = None
    date_field: str | None = None
    # Reference lists inside nested fields (e.g. eligibility.industries), checked like tags.
    nested_references: tuple[tuple[str, str, ReferenceKind], ...] = ()
    # (collection model, field holding this item's id): removed with the item on purge
    related: tuple[tuple[type[Document], str], ...] = ()
    # What readers rely on: a member's change to these waits for staff once approved.
    moderated: frozenset[str] = frozenset()
    # Only staff and admins may set these (e.g. `featured`, which boosts ranking).
    staff_only: frozenset[str] = frozenset()
    # --- hooks ---
    rules: Rules[T] = no_rules
    # Fields computed from the others (besides search tokens and the organisation's name),
    # e.g. an opportunity's deadline sort key.
    derived: Callable[[T], dict[str, Any]] = nothing_derived
    # The kind's own list filters, from its query model, as MongoDB clauses.
    filters: Callable[[Any], list[dict[str, Any]]] = no_filters
    # The status readers see (e.g. a published opportunity past its deadline reads closed).
    reader_status: Callable[[T], ItemStatus] = stored_status
    # Among `items`, those whose insider details the viewer sees besides their managers
    # (events: the online link, for people going). One query for a whole page.
    insiders: Callable[[Viewer, list[T]], Awaitable[set[PydanticObjectId]]] = no_insiders
    geo_fields: tuple[str, str] | None = None  # lat, lng: lists may ask for items near a point

    @property
    def default_sort(self) -> str:
        return next(iter(self.sorts))

    def not_found(self) -> NotFound:
        code = f"{self.entity.upper()}_NOT_FOUND"
        return NotFound(f"The {self.entity} was not found.", code=code)

    async def announce(self, item_id: PydanticObjectId | None, fields: Iterable[str]) -> None:
        """Tell listeners (recommendations…) that an item's live content or status changed;
        called after the write succeeded."""
        if item_id is not None:
            change = signals.ItemChanged(self.entity, item_id, frozenset(fields))
            await signals.item_changed.send(change)
