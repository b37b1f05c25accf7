"""Sources: what staff set up to be polled — kind, URL, organisation, defaults, schedule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.core.exceptions import NotFound
from app.core.pagination import SortSpec, paginate
from app.models.base import utcnow
from app.models.ingestion import Source, SourceDefaults, SourceRun
from app.models.organisation import Organisation
from app.models.reference import ReferenceKind
from app.schemas.ingestion import SourceCreate, SourceQuery, SourceUpdate
from app.schemas.query import PageQuery
from app.services import audit, reference
from app.services.access import object_id
from app.services.auth import Principal
from app.services.catalogue.kinds import REFERENCE_LISTS
from app.services.versioning import save_versioned

ENTITY = "source"
NEWEST = SortSpec("newest", "created_at", -1)


async def get(source_id: str) -> Source:
    found = await Source.get(object_id(source_id, "SOURCE_NOT_FOUND", "source"))
    if found is None:
        raise NotFound("The source was not found.", code="SOURCE_NOT_FOUND")
    return found


async def _check_defaults(target: str, defaults: dict[str, Any]) -> None:
    if defaults.get("type"):
        kind = (
            ReferenceKind.opportunity_types
            if target == "opportunity"
            else ReferenceKind.event_types
        )
        await reference.validate(kind, [defaults["type"]], "defaults.type")
    for name, ref_kind in REFERENCE_LISTS:
        await reference.validate(ref_kind, defaults.get(name) or [], f"defaults.{name}")
    await reference.validate(
        ReferenceKind.tags,
        list((defaults.get("category_map") or {}).values()),
        "defaults.category_map",
    )


async def create(who: Principal, body: SourceCreate) -> Source:
    oid = object_id(body.organisation_id, "ORGANISATION_NOT_FOUND", "organisation")
    org = await Organisation.get(oid)
    if org is None or org.archived:
        raise NotFound("The organisation was not found.", code="ORGANISATION_NOT_FOUND")
    data = body.model_dump()
    await _check_defaults(body.target, data["defaults"])
    data["defaults"] = SourceDefaults(**data["defaults"])
    data["organisation_id"] = oid
    # The first run is due one interval from now; `POST …/run` runs it at once.
    source = Source(**data, created_by=who.id)
    source.due_at = utcnow() + timedelta(minutes=body.interval_minutes) if body.enabled else None
    await source.insert()
    await audit.record(who, "create", ENTITY, source.id, None, source.model_dump())
    return source


async def update(who: Principal, source_id: str, body: SourceUpdate) -> Source:
    source = await get(source_id)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return source
    if "defaults" in changes:
        await _check_defaults(source.target, changes["defaults"])
    enabled = changes.get("enabled", source.enabled)
    interval = changes.get("interval_minutes", source.interval_minutes)
    if "enabled" in changes or "interval_minutes" in changes:
        changes["due_at"] = utcnow() + timedelta(minutes=interval) if enabled else None
    if "url" in changes and changes["url"] != source.url:
        changes["etag"] = changes["last_modified"] = None  # validators of another URL
    fresh = await save_versioned(source, changes, None, ENTITY)
    await audit.record(who, "update", ENTITY, source.id, source.model_dump(), fresh.model_dump())
    return fresh


async def page(query: SourceQuery) -> tuple[list[Source], str | None, int | None]:
    filters: dict[str, Any] = {}
    if query.kind:
        filters["kind"] = query.kind
    if query.enabled is not None:
        filters["enabled"] = query.enabled
    return await paginate(Source, filters, NEWEST, query.page)


async def runs(source_id: str, query: PageQuery) -> tuple[list[SourceRun], str | None, int | None]:
    source = await get(source_id)
    return await paginate(SourceRun, {"source_id": source.id}, NEWEST, query.page)


async def get_run(source_id: str, run_id: str) -> SourceRun:
    source = await get(source_id)
    run = await SourceRun.get(object_id(run_id, "RUN_NOT_FOUND", "run"))
    if run is None or run.source_id != source.id:
        raise NotFound("The run was not found.", code="RUN_NOT_FOUND")
    return run
