"""The workflow: draft → review → published → closed/cancelled, archive and restore, purge.

Each transition is one conditional update on the status it starts from (and, with If-Match,
on the version the caller read), audited; the capability table decides who may do which.
"""

from __future__ import annotations

from typing import Any

import structlog
from beanie import PydanticObjectId

from app.core.exceptions import Conflict, PreconditionFailed
from app.models.base import utcnow
from app.models.catalogue import ItemStatus
from app.services import audit
from app.services.capabilities import Action
from app.services.catalogue import signals
from app.services.catalogue.access import get_managed
from app.services.catalogue.kinds import CatalogueKind, T
from app.services.catalogue.viewer import Viewer
from app.services.versioning import check_version

log = structlog.get_logger("app.catalogue")

# action -> (allowed source statuses, target status, the capability it needs)
TRANSITIONS: dict[str, tuple[frozenset[ItemStatus], ItemStatus | None, Action]] = {
    "submit": (frozenset({ItemStatus.draft}), ItemStatus.pending_review, Action.item_submit),
    "approve": (
        frozenset({ItemStatus.pending_review}),
        ItemStatus.published,
        Action.item_moderate,
    ),
    "reject": (frozenset({ItemStatus.pending_review}), ItemStatus.draft, Action.item_moderate),
    "publish": (
        frozenset({ItemStatus.draft, ItemStatus.pending_review, ItemStatus.closed}),
        ItemStatus.published,
        Action.item_moderate,
    ),
    "close": (frozenset({ItemStatus.published}), ItemStatus.closed, Action.item_close),
    "cancel": (
        frozenset({ItemStatus.draft, ItemStatus.pending_review, ItemStatus.published}),
        ItemStatus.cancelled,
        Action.item_cancel,
    ),
    "archive": (
        frozenset(set(ItemStatus) - {ItemStatus.archived}),
        ItemStatus.archived,
        Action.item_archive,
    ),
    # back to the previous status
    "restore": (frozenset({ItemStatus.archived}), None, Action.item_restore),
}


async def transition(
    kind: CatalogueKind[T],
    who: Viewer,
    key: str,
    action: str,
    reason: str | None = None,
    expected_version: int | None = None,
) -> T:
    """With `expected_version` (If-Match), the transition happens only to the version the
    caller read: staff approve exactly what they reviewed, not an edit made meanwhile."""
    sources, target, capability = TRANSITIONS[action]
    item = await get_managed(kind, who, key, capability)
    check_version(item, expected_version, kind.entity)
    if item.status not in sources:
        raise Conflict(
            f"Cannot {action} a {kind.entity} that is {item.status.value}.",
            code="INVALID_TRANSITION",
            details=[{"from": item.status.value, "action": action}],
        )
    new_status = target or item.status_before_archive or ItemStatus.draft
    now = utcnow()
    updates: dict[str, Any] = {
        "status": new_status.value,
        "status_reason": reason,
        "updated_at": now,
    }
    if action == "archive":
        updates["status_before_archive"] = item.status.value
    if new_status is ItemStatus.published:
        updates["ever_published"] = True
        if item.published_at is None:
            updates["published_at"] = now
    condition: dict[str, Any] = {"_id": item.id, "status": item.status.value}  # atomic
    if expected_version is not None:
        condition["version"] = expected_version
    result = await kind.model.get_motor_collection().update_one(
        condition, {"$set": updates, "$inc": {"version": 1}}
    )
    if result.modified_count == 0:
        if expected_version is not None:
            raise PreconditionFailed(
                f"The {kind.entity} changed since you read it.", code="VERSION_MISMATCH"
            )
        raise Conflict(f"The {kind.entity} changed meanwhile; reload.", code="CONCURRENT_CHANGE")
    await audit.record(
        who.principal,
        "status_change" if action not in {"archive", "restore"} else action,
        kind.entity,
        item.id,
        {"status": item.status.value, "status_reason": item.status_reason},
        {"status": new_status.value, "status_reason": reason},
    )
    log.info(f"{kind.entity}_{action}", item_id=str(item.id), status=new_status.value)
    fresh = await kind.model.get(item.id)
    assert fresh is not None  # noqa: S101
    await signals.changed(kind, who, item, fresh, action, reason)
    return fresh


ORG_ARCHIVED_REASON = "organisation archived"


async def cascade_archive(
    kind: CatalogueKind[T], who: Viewer, organisation_id: PydanticObjectId, archived: bool
) -> int:
    """Archiving an organisation archives its items (audited, one transition each);
    restoring it brings back exactly those, not ones archived on their own."""
    if archived:
        query: dict[str, Any] = {
            "organisation_id": organisation_id,
            "status": {"$ne": ItemStatus.archived.value},
        }
        action, reason = "archive", ORG_ARCHIVED_REASON
    else:
        query = {
            "organisation_id": organisation_id,
            "status": ItemStatus.archived.value,
            "status_reason": ORG_ARCHIVED_REASON,
        }
        action, reason = "restore", None
    ids = [
        str(doc["_id"]) async for doc in kind.model.get_motor_collection().find(query, {"_id": 1})
    ]
    for item_id in ids:
        await transition(kind, who, item_id, action, reason)
    return len(ids)


async def purge(kind: CatalogueKind[T], who: Viewer, key: str) -> PydanticObjectId:
    """Hard delete (admins only), for archived items."""
    item = await get_managed(kind, who, key, Action.item_purge)
    assert item.id is not None  # noqa: S101
    if item.status is not ItemStatus.archived:
        raise Conflict(f"Archive the {kind.entity} before purging it.", code="NOT_ARCHIVED")
    for model, field_name in kind.related:
        await model.get_motor_collection().delete_many({field_name: item.id})
    await item.delete()
    await audit.record(who.principal, "purge", kind.entity, item.id, item.model_dump(), None)
    await kind.announce(item.id, {"status"})
    return item.id
