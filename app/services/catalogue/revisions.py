"""Which member edits wait for staff, and how they pile up into one pending revision.

Once staff have approved an item (it is `published`, or `closed` and may be reopened by
staff without a new review), an organisation member's change to a *moderated* field —
what readers rely on, declared per kind in `CatalogueKind.moderated` — does not go live:
it is kept as the item's one pending revision until staff approve or reject it. Other
fields (cosmetic ones) go live at once. Staff and admin edits are always live.

Pure functions over documents and dicts; the writes live in `catalogue` and `moderation`.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python

from app.models.base import utcnow
from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.revision import PendingRevision, RevisionDecision, RevisionOutcome
from app.services.auth import Principal

# Statuses whose content staff approved and that are (or, by staff alone, become) public.
MODERATED_STATUSES = frozenset({ItemStatus.published, ItemStatus.closed})


def applies(item: CatalogueItem, staff: bool) -> bool:
    """Does a change by this caller to this item's moderated fields need staff approval?"""
    return not staff and item.status in MODERATED_STATUSES


def plain(value: Any) -> Any:
    """JSON form, so stored values, models and request values compare alike."""
    return to_jsonable_python(value, fallback=str)


def same(a: Any, b: Any) -> bool:
    return bool(plain(a) == plain(b))


def pending_changes(item: CatalogueItem) -> dict[str, Any]:
    return dict(item.pending_revision.changes) if item.pending_revision else {}


def merge(item: CatalogueItem, proposed: dict[str, Any]) -> dict[str, Any]:
    """The revision after this edit: earlier proposals overridden by the new ones, without
    the fields that now equal what is live (proposing the live value withdraws that field)."""
    merged = {**pending_changes(item), **proposed}
    return {k: v for k, v in merged.items() if not same(v, getattr(item, k))}


def revise(item: CatalogueItem, changes: dict[str, Any], by: Principal) -> PendingRevision | None:
    """The pending revision holding `changes` (None when there is nothing left to review)."""
    if not changes:
        return None
    now = utcnow()
    current = item.pending_revision
    if current is None:
        return PendingRevision(changes=changes, created_by=by.id, updated_by=by.id)
    return current.model_copy(update={"changes": changes, "updated_by": by.id, "updated_at": now})


def decision(
    item: CatalogueItem, outcome: RevisionOutcome, by: Principal, reason: str | None = None
) -> RevisionDecision:
    assert item.pending_revision is not None  # noqa: S101 - callers check
    return RevisionDecision(
        revision_id=item.pending_revision.id, outcome=outcome, reason=reason, decided_by=by.id
    )
