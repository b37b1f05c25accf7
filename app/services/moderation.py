"""Moderation: the staff queue (items pending review and pending revisions, oldest first)
and what happens to a pending revision — approved or rejected by staff, withdrawn by the
organisation. Each decision is one conditional write on the item's `version`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from app.core.exceptions import Conflict, NotFound, ValidationFailed
from app.core.pagination import (
    PageParams,
    SortSpec,
    decode_cursor,
    encode_cursor,
    keyset_filter,
    sort_keys,
)
from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.event import Event
from app.models.opportunity import Opportunity
from app.models.revision import PendingRevision, RevisionOutcome
from app.services import audit, catalogue, revisions
from app.services.capabilities import Action
from app.services.catalogue import CatalogueKind, Viewer
from app.services.versioning import check_version, save_versioned, validate_changes

T = TypeVar("T", bound=CatalogueItem)

Kind = Literal["opportunity", "event"]
Stage = Literal["review", "revision"]
SOURCES: dict[Kind, type[CatalogueItem]] = {"opportunity": Opportunity, "event": Event}
# Both queues page with one cursor (same sort name): when it was submitted, then the id.
REVIEW_SORT = SortSpec("queue", "updated_at", 1)
REVISION_SORT = SortSpec("queue", "pending_revision.created_at", 1)
QUEUES: dict[Stage, tuple[dict[str, Any], SortSpec]] = {
    "review": ({"status": ItemStatus.pending_review.value}, REVIEW_SORT),
    "revision": (
        {
            "pending_revision.created_at": {"$exists": True},
            "status": {"$ne": ItemStatus.archived.value},  # restore it to decide
        },
        REVISION_SORT,
    ),
}


@dataclass
class QueueEntry:
    kind: Kind
    stage: Stage
    item: CatalogueItem
    submitted_at: datetime


async def queue(
    kind: Kind | None, stage: Stage | None, page: PageParams
) -> tuple[list[QueueEntry], str | None, int | None]:
    cursor = decode_cursor(REVIEW_SORT, page.cursor) if page.cursor else None
    rows: list[QueueEntry] = []
    total = 0
    for name, model in SOURCES.items():
        if kind and kind != name:
            continue
        for stage_name, (base, sort) in QUEUES.items():
            if stage and stage != stage_name:
                continue
            query = base if cursor is None else {"$and": [base, keyset_filter(sort, *cursor)]}
            docs = await model.find(query).sort(sort_keys(sort)).limit(page.limit + 1).to_list()
            rows += [QueueEntry(name, stage_name, d, _submitted(stage_name, d)) for d in docs]
            if page.include_total:
                total += await model.find(base).count()
    rows.sort(key=lambda r: (r.submitted_at, str(r.item.id)))
    window = rows[: page.limit]
    next_cursor = None
    if len(rows) > page.limit:
        last = window[-1]
        next_cursor = encode_cursor(REVIEW_SORT, last.submitted_at, last.item.id)  # type: ignore[arg-type]
    return window, next_cursor, total if page.include_total else None


def _submitted(stage: Stage, item: CatalogueItem) -> datetime:
    if stage == "revision" and item.pending_revision is not None:
        return item.pending_revision.created_at
    return item.updated_at


# --- pending revisions ------------------------------------------------------------------------


def _revision_of(item: CatalogueItem) -> PendingRevision:
    if item.pending_revision is None:
        raise NotFound("There is no pending revision.", code="REVISION_NOT_FOUND")
    return item.pending_revision


async def get_revision(kind: CatalogueKind[T], who: Viewer, key: str) -> T:
    """The item with its pending revision (its organisation and staff only)."""
    item = await catalogue.get_managed(kind, who, key)
    _revision_of(item)
    return item


async def approve_revision(
    kind: CatalogueKind[T], who: Viewer, key: str, expected_version: int | None
) -> T:
    """Apply the revision to the live item, re-validated against the item as it is now
    (staff may have edited it, a reference may have been retired): 409 REVISION_INVALID
    when it no longer fits, and it stays pending (reject it, or the member edits it)."""
    item = await catalogue.get_managed(kind, who, key, Action.item_moderate)
    revision = _revision_of(item)
    check_version(item, expected_version, kind.entity)
    if item.status is ItemStatus.archived:
        raise Conflict(f"Restore the {kind.entity} first.", code="ITEM_ARCHIVED")
    assert who.principal is not None  # noqa: S101 - staff
    changes = {k: v for k, v in revision.changes.items() if k in kind.moderated}
    try:
        await catalogue.check_references(kind, changes)
        if kind.rules:
            kind.rules(item, changes)
        validate_changes(item, changes, kind.entity)
    except ValidationFailed as exc:
        raise Conflict(
            f"The revision no longer fits the {kind.entity} as it is now: {exc.message}",
            code="REVISION_INVALID",
            details=exc.details,
        ) from exc
    changes.update(catalogue.search_fields(kind, item.model_copy(update=changes)))
    changes["pending_revision"] = None
    changes["revision_decision"] = revisions.decision(item, RevisionOutcome.approved, who.principal)
    fresh = await save_versioned(item, changes, expected_version, kind.entity)
    await audit.record(
        who.principal,
        "revision_approve",
        kind.entity,
        item.id,
        item.model_dump(),
        fresh.model_dump(),
    )
    return fresh


async def reject_revision(
    kind: CatalogueKind[T], who: Viewer, key: str, reason: str, expected_version: int | None
) -> T:
    item = await catalogue.get_managed(kind, who, key, Action.item_moderate)
    return await _drop(kind, who, item, RevisionOutcome.rejected, reason, expected_version)


async def withdraw_revision(
    kind: CatalogueKind[T], who: Viewer, key: str, expected_version: int | None
) -> T:
    item = await catalogue.get_managed(kind, who, key)
    return await _drop(kind, who, item, RevisionOutcome.withdrawn, None, expected_version)


async def _drop(
    kind: CatalogueKind[T],
    who: Viewer,
    item: T,
    outcome: RevisionOutcome,
    reason: str | None,
    expected_version: int | None,
) -> T:
    """Discard the pending revision; what is live does not change (nor its `updated_at`)."""
    revision = _revision_of(item)
    assert who.principal is not None  # noqa: S101
    check_version(item, expected_version, kind.entity)
    decision = revisions.decision(item, outcome, who.principal, reason)
    fresh = await save_versioned(
        item,
        {"pending_revision": None, "revision_decision": decision},
        expected_version,
        kind.entity,
        touch=False,
    )
    proposed = dict(revision.changes)
    after: dict[str, Any] = {name: getattr(item, name) for name in proposed}
    if reason:
        after["reason"] = reason
    action = "revision_reject" if outcome is RevisionOutcome.rejected else "revision_withdraw"
    await catalogue.audit_revision(who, action, kind, item, proposed, after)
    return fresh
