"""Loading items with object-level authorization, and what one caller sees of them.

The one visibility rule: published items are public; anything else only for its
organisation and staff. Every read path (items, lists, /me, .ics, attendees, media) uses it.
An item the caller may not know about is "not found", never "forbidden".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from beanie import PydanticObjectId

from app.models.catalogue import CatalogueItem, ItemStatus
from app.services.access import by_id_or_slug
from app.services.capabilities import Action
from app.services.catalogue.kinds import CatalogueKind, T
from app.services.catalogue.viewer import Viewer

R = TypeVar("R")


def is_public(item: CatalogueItem) -> bool:
    return item.status is ItemStatus.published


def visible_to(who: Viewer, item: CatalogueItem) -> bool:
    return is_public(item) or who.manages(item)


async def fetch(kind: CatalogueKind[T], key: str) -> T | None:
    return await by_id_or_slug(kind.model, key)


async def get_visible(kind: CatalogueKind[T], who: Viewer, key: str) -> T:
    item = await fetch(kind, key)
    if item is None or not visible_to(who, item):
        raise kind.not_found()
    return item


async def get_for_own_row(
    kind: CatalogueKind[T], who: Viewer, key: str, has_row: Callable[[T], Awaitable[bool]]
) -> T:
    """For letting go of your own save, application or RSVP: also when the item is no
    longer visible to you, as long as you have one (otherwise it is simply not found)."""
    item = await fetch(kind, key)
    if item is None or not (visible_to(who, item) or await has_row(item)):
        raise kind.not_found()
    return item


async def get_managed(
    kind: CatalogueKind[T], who: Viewer, key: str, action: Action = Action.item_edit
) -> T:
    """For `action` on an item: 404 when the caller cannot see it (not knowing it exists),
    403 when they see it but the capability table denies them the action."""
    item = await fetch(kind, key)
    if item is None or not visible_to(who, item):
        raise kind.not_found()
    who.require(action, item.organisation_id)
    return item


# --- what one caller sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView(Generic[T]):
    """An item as one caller sees it: what the presenters (`XRead.from_view`) need besides
    the document, decided here so that presenting loads nothing."""

    item: T
    status: ItemStatus  # as readers see it (past-deadline opportunities read as closed)
    manages: bool  # its organisation or staff: status reasons, pending revisions
    insider: bool  # sees what only insiders see (an event's online link)
    gone: bool = False  # no longer visible to the caller: shown as a tombstone only
    distance_km: float | None = None


@dataclass
class Listing(Generic[T]):
    views: list[ItemView[T]]
    next_cursor: str | None
    total: int | None
    facets: dict[str, list[dict[str, object]]] | None = None


@dataclass(frozen=True)
class Edited(Generic[T]):
    view: ItemView[T]
    queued: bool  # some of the changes wait for staff in the item's pending revision


async def show(
    kind: CatalogueKind[T],
    who: Viewer,
    items: Iterable[T],
    *,
    insiders: set[PydanticObjectId] | None = None,
    gone: set[PydanticObjectId] | frozenset[PydanticObjectId] = frozenset(),
    distances: Mapping[PydanticObjectId, float] | None = None,
) -> list[ItemView[T]]:
    """Views of `items` for `who`, in order. Insiders are asked of the kind once for all
    the items the caller does not manage, unless the caller already knows them."""
    pairs = [(i, i.id) for i in items]  # each id read once: document attributes are hooked
    managed = {ident for i, ident in pairs if who.manages(i)}
    if insiders is None:
        others = [i for i, ident in pairs if ident not in managed and ident not in gone]
        insiders = await kind.insiders(who, others) if others else set()
    distances = distances or {}
    return [
        ItemView(
            item=i,
            status=kind.reader_status(i),
            manages=ident in managed,
            insider=ident in managed or ident in insiders,
            gone=ident in gone,
            distance_km=distances.get(ident) if ident is not None else None,
        )
        for i, ident in pairs
    ]


async def show_one(kind: CatalogueKind[T], who: Viewer, item: T) -> ItemView[T]:
    return (await show(kind, who, [item]))[0]


@dataclass
class Rows(Generic[R, T]):
    """A page of the caller's own rows (saves, RSVPs…), each with the item it points at
    (a tombstone view when the item is no longer visible to them)."""

    rows: list[tuple[R, ItemView[T]]]
    next_cursor: str | None
    total: int | None
