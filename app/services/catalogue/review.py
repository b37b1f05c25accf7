"""Pending revisions: a member's edit to approved content, seen by its organisation and
staff, approved or rejected by staff, withdrawn by the organisation. Each decision is one
conditional write on the item's `version`, audited."""

from __future__ import annotations

from typing import Any

from app.core.exceptions import Conflict, NotFound, ValidationFailed
from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.revision import PendingRevision, RevisionOutcome
from app.services import audit
from app.services.capabilities import Action
from app.services.catalogue import revisions, signals
from app.services.catalogue.access import get_managed
from app.services.catalogue.derive import derive_after
from app.services.catalogue.edit import audit_revision, check_references
from app.services.catalogue.kinds import CatalogueKind, T
from app.services.catalogue.viewer import Viewer
from app.services.versioning import check_version, save_versioned, validate_changes


def _revision_of(item: CatalogueItem) -> PendingRevision:
    if item.pending_revision is None:
        raise NotFound("There is no pending revision.", code="REVISION_NOT_FOUND")
    return item.pending_revision


async def get_revision(kind: CatalogueKind[T], who: Viewer, key: str) -> T:
    """The item with its pending revision (its organisation and staff only)."""
    item = await get_managed(kind, who, key)
    _revision_of(item)
    return item


async def approve_revision(
    kind: CatalogueKind[T], who: Viewer, key: str, expected_version: int | None
) -> T:
    """Apply the revision to the live item, re-validated against the item as it is now
    (staff may have edited it, a reference may have been retired): 409 REVISION_INVALID
    when it no longer fits, and it stays pending (reject it, or the member edits it)."""
    item = await get_managed(kind, who, key, Action.item_moderate)
    revision = _revision_of(item)
    check_version(item, expected_version, kind.entity)
    if item.status is ItemStatus.archived:
        raise Conflict(f"Restore the {kind.entity} first.", code="ITEM_ARCHIVED")
    changes = {k: v for k, v in revision.changes.items() if k in kind.moderated}
    try:
        changes = await check_references(kind, changes)
        changes = {**changes, **kind.rules(item, changes)}
        validate_changes(item, changes, kind.entity)
    except ValidationFailed as exc:
        raise Conflict(
            f"The revision no longer fits the {kind.entity} as it is now: {exc.message}",
            code="REVISION_INVALID",
            details=exc.details,
        ) from exc
    changes.update(derive_after(kind, item, changes))
    changes["pending_revision"] = None
    changes["revision_decision"] = revisions.decision(item, RevisionOutcome.approved, who.user)
    fresh = await save_versioned(item, changes, expected_version, kind.entity)
    await audit.record(
        who.principal,
        "revision_approve",
        kind.entity,
        item.id,
        item.model_dump(),
        fresh.model_dump(),
    )
    await signals.changed(kind, who, item, fresh, "revision_approve")
    return fresh


async def reject_revision(
    kind: CatalogueKind[T], who: Viewer, key: str, reason: str, expected_version: int | None
) -> T:
    item = await get_managed(kind, who, key, Action.item_moderate)
    return await _drop(kind, who, item, RevisionOutcome.rejected, reason, expected_version)


async def withdraw_revision(
    kind: CatalogueKind[T], who: Viewer, key: str, expected_version: int | None
) -> T:
    item = await get_managed(kind, who, key)
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
    check_version(item, expected_version, kind.entity)
    decision = revisions.decision(item, outcome, who.user, reason)
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
    await audit_revision(who, action, kind, item, proposed, after)
    if outcome is RevisionOutcome.rejected:
        await signals.changed(kind, who, item, fresh, "revision_reject", reason)
    return fresh
