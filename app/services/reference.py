"""Reference data: public reads, admin changes (audited), slug validation, seeding."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Literal

from pymongo.errors import DuplicateKeyError

from app.core.exceptions import Conflict, NotFound, ValidationFailed
from app.models.base import utcnow
from app.models.reference import ReferenceItem, ReferenceKind
from app.schemas.reference import ReferenceCreate, ReferenceRead, ReferenceUpdate
from app.services import audit
from app.services.auth import Principal

ENTITY = "reference"
Where = Literal["body", "query"]


async def list_items(
    kind: ReferenceKind, include_retired: bool = False
) -> tuple[list[ReferenceRead], str]:
    query: dict[str, object] = {"kind": kind.value}
    if not include_retired:
        query["active"] = True
    docs = await ReferenceItem.find(query).sort("+position", "+slug").to_list()
    items = [ReferenceRead.from_doc(d) for d in docs]
    payload = json.dumps([i.model_dump(mode="json") for i in items], sort_keys=True)
    etag = '"' + hashlib.sha256(payload.encode()).hexdigest()[:32] + '"'
    return items, etag


async def get(kind: ReferenceKind, slug: str) -> ReferenceItem:
    """One item of a kind, retired or not (admins)."""
    return await _get(kind, slug)


async def _get(kind: ReferenceKind, slug: str) -> ReferenceItem:
    item = await ReferenceItem.find_one({"kind": kind.value, "slug": slug})
    if item is None:
        raise NotFound("The reference item was not found.", code="REFERENCE_NOT_FOUND")
    return item


async def create(actor: Principal, kind: ReferenceKind, data: ReferenceCreate) -> ReferenceItem:
    item = ReferenceItem(kind=kind, **data.model_dump())
    try:
        await item.insert()
    except DuplicateKeyError as exc:
        raise Conflict("This slug already exists.", code="REFERENCE_SLUG_TAKEN") from exc
    await audit.record(
        actor, "create", ENTITY, f"{kind.value}/{item.slug}", None, item.model_dump()
    )
    return item


async def update(
    actor: Principal, kind: ReferenceKind, slug: str, data: ReferenceUpdate
) -> ReferenceItem:
    item = await _get(kind, slug)
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        return item
    before = item.model_dump()
    ReferenceItem.model_validate(before | changes)  # never store what cannot be read back
    await item.set({**changes, "updated_at": utcnow()})
    action = "retire" if changes.get("active") is False else "update"
    await audit.record(actor, action, ENTITY, f"{kind.value}/{slug}", before, item.model_dump())
    return item


async def retire(actor: Principal, kind: ReferenceKind, slug: str) -> ReferenceItem:
    return await update(actor, kind, slug, ReferenceUpdate(active=False))


async def validate(
    kind: ReferenceKind, slugs: Iterable[str], field: str, *, where: Where = "body"
) -> list[str]:
    """Return `slugs` de-duplicated, or 422 naming every unknown or retired slug. `field`
    is its path in the body (dotted when nested) or the query parameter's name
    (`where="query"`): each detail's `loc` is where the client sent it."""
    wanted = list(dict.fromkeys(slugs))
    if not wanted:
        return []
    found = {
        d["slug"]
        async for d in ReferenceItem.get_motor_collection().find(
            {"kind": kind.value, "slug": {"$in": wanted}, "active": True}, {"slug": 1}
        )
    }
    return _judged(kind, wanted, found, field, where)


class ActiveSlugs:
    """Every active slug, loaded once: bulk paths (imports, source runs) validate thousands
    of rows against it with `validate`'s own rule and errors, without a query per row."""

    def __init__(self, slugs: dict[ReferenceKind, set[str]]) -> None:
        self.slugs = slugs

    @classmethod
    async def load(cls) -> ActiveSlugs:
        slugs: dict[ReferenceKind, set[str]] = {kind: set() for kind in ReferenceKind}
        async for d in ReferenceItem.get_motor_collection().find(
            {"active": True}, {"kind": 1, "slug": 1}
        ):
            slugs.setdefault(ReferenceKind(d["kind"]), set()).add(d["slug"])
        return cls(slugs)

    def has(self, kind: ReferenceKind, slug: str) -> bool:
        return slug in self.slugs.get(kind, set())

    async def validate(
        self, kind: ReferenceKind, slugs: Iterable[str], field: str, *, where: Where = "body"
    ) -> list[str]:
        wanted = list(dict.fromkeys(slugs))
        found = self.slugs.get(kind, set())
        return _judged(kind, wanted, found, field, where) if wanted else []


def _judged(
    kind: ReferenceKind, wanted: list[str], found: set[str], field: str, where: Where
) -> list[str]:
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise ValidationFailed(
            f"Unknown {kind.value}: {', '.join(unknown)}.",
            code="UNKNOWN_REFERENCE",
            details=[
                {"loc": [where, *field.split(".")], "msg": f"unknown {kind.value} slug", "input": s}
                for s in unknown
            ],
        )
    return wanted
