"""The audit trail: who changed what, when, with before/after values."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pydantic_core import to_jsonable_python

from app.core.context import request_id_var
from app.core.pagination import SortSpec, paginate
from app.models.audit import AuditEntry
from app.schemas.admin import AuditQuery
from app.services.auth import Principal

IGNORED_FIELDS = frozenset(
    {
        "search_tokens",
        "title_tokens",
        "updated_at",
        "version",
        "revision_id",
        # pending revisions have their own audit entries (revision_propose/approve/...)
        "pending_revision",
        "revision_decision",
    }
)
AUDIT_SORT = SortSpec("-at", "at", -1)


def _plain(value: Any) -> Any:
    return to_jsonable_python(value, fallback=str)


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    before, after = before or {}, after or {}
    changes: dict[str, dict[str, Any]] = {}
    for key in sorted(set(before) | set(after)):
        if key in IGNORED_FIELDS or key in {"_id", "id"}:
            continue
        old, new = _plain(before.get(key)), _plain(after.get(key))
        if old != new:
            changes[key] = {"before": old, "after": new}
    return changes


async def record(
    actor: Principal | None,
    action: str,
    entity: str,
    entity_id: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_role=actor.role.value if actor else None,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        changes=diff(before, after),
        request_id=request_id_var.get(),
    )
    await entry.insert()
    return entry


async def search(query: AuditQuery) -> tuple[list[AuditEntry], str | None, int | None]:
    filters: dict[str, Any] = {}
    if query.entity:
        filters["entity"] = query.entity
    if query.entity_id:
        filters["entity_id"] = query.entity_id
    if query.actor_id:
        filters["actor_id"] = PydanticObjectId(query.actor_id)  # checked by the query model
    window: dict[str, Any] = {}
    if query.since:
        window["$gte"] = query.since
    if query.until:
        window["$lt"] = query.until
    if window:
        filters["at"] = window
    return await paginate(AuditEntry, filters, AUDIT_SORT, query.page)
