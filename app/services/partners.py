"""Platform partnerships: admin-managed, listed publicly while active (all audited)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.core.exceptions import Conflict, NotFound, ValidationFailed
from app.core.pagination import SortSpec, paginate
from app.models.base import utcnow
from app.models.organisation import (
    Organisation,
    PartnerContact,
    Partnership,
    PartnerStatus,
)
from app.schemas.organisation import (
    AdminPartnerQuery,
    PartnerQuery,
    PartnershipCreate,
    PartnershipUpdate,
)
from app.services import audit
from app.services.access import object_id
from app.services.auth import Principal
from app.services.versioning import check_version, save_versioned

ENTITY = "partner"
PUBLIC_SORT = SortSpec("name", "organisation_name", 1, kind="str")
ADMIN_SORT = SortSpec("newest", "created_at", -1)


def _day(value: date) -> datetime:
    return datetime.combine(value, time.min, tzinfo=UTC)


def _not_found() -> NotFound:
    return NotFound("The partnership was not found.", code="PARTNER_NOT_FOUND")


def public_filter(now: datetime | None = None) -> dict[str, Any]:
    """Active, started, and not past its end date."""
    today = _day((now or utcnow()).date())
    return {
        "status": PartnerStatus.active.value,
        "start_date": {"$lte": today},
        "$or": [{"end_date": None}, {"end_date": {"$gte": today}}],
    }


async def list_public(query: PartnerQuery) -> tuple[list[Partnership], str | None, int | None]:
    filters = public_filter()
    if query.tier:
        filters["tier"] = query.tier.value
    return await paginate(Partnership, filters, PUBLIC_SORT, query.page)


async def get_public(partner_id: str) -> Partnership:
    oid = object_id(partner_id, "PARTNER_NOT_FOUND", "partnership")
    item = await Partnership.find_one({"_id": oid, **public_filter()})
    if item is None:
        raise _not_found()
    return item


async def list_admin(query: AdminPartnerQuery) -> tuple[list[Partnership], str | None, int | None]:
    filters: dict[str, Any] = {}
    if query.status:
        filters["status"] = query.status.value
    return await paginate(Partnership, filters, ADMIN_SORT, query.page)


async def get_admin(partner_id: str) -> Partnership:
    item = await Partnership.get(object_id(partner_id, "PARTNER_NOT_FOUND", "partnership"))
    if item is None:
        raise _not_found()
    return item


async def create(actor: Principal, data: PartnershipCreate) -> Partnership:
    org = await Organisation.get(
        object_id(data.organisation_id, "ORGANISATION_NOT_FOUND", "organisation")
    )
    if org is None or org.archived:
        raise NotFound("The organisation was not found.", code="ORGANISATION_NOT_FOUND")
    item = Partnership(
        organisation_id=org.id,
        organisation_name=org.name,
        organisation_slug=org.slug,
        tier=data.tier,
        status=data.status,
        contact=PartnerContact(**data.contact.model_dump()),
        start_date=_day(data.start_date),
        end_date=_day(data.end_date) if data.end_date else None,
    )
    try:
        await item.insert()
    except DuplicateKeyError as exc:
        raise Conflict(
            "This organisation already has a partnership.", code="PARTNER_EXISTS"
        ) from exc
    await audit.record(actor, "create", ENTITY, item.id, None, item.model_dump())
    return item


async def update(
    actor: Principal, partner_id: str, data: PartnershipUpdate, expected_version: int | None
) -> Partnership:
    item = await get_admin(partner_id)
    check_version(item, expected_version, "partnership")
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    # Only end_date can be cleared (null = open-ended); null elsewhere means "no change".
    changes = {k: v for k, v in changes.items() if v is not None or k == "end_date"}
    if not changes:
        return item
    for name in ("start_date", "end_date"):
        if changes.get(name) is not None:
            changes[name] = _day(changes[name])
    end = changes.get("end_date", item.end_date)
    if end is not None and end < changes.get("start_date", item.start_date):
        raise ValidationFailed(
            "end_date must not be before start_date.",
            details=[{"loc": ["body", "end_date"], "msg": "before start_date"}],
        )
    before = item.model_dump()
    fresh = await save_versioned(item, changes, expected_version, "partnership")
    await audit.record(actor, "update", ENTITY, item.id, before, fresh.model_dump())
    return fresh


async def delete(actor: Principal, partner_id: str) -> None:
    item = await get_admin(partner_id)
    await item.delete()
    await audit.record(actor, "delete", ENTITY, item.id, item.model_dump(), None)
