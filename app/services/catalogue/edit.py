"""Creating and editing items: references checked, HTML sanitised, the kind's rule function
over the state after the change, derived fields, and — for a member's edit to approved
content — the pending revision. Every write is audited.
"""

from __future__ import annotations

import secrets
from typing import Any

import structlog
from pymongo.errors import DuplicateKeyError

from app.core.exceptions import Conflict, Forbidden, NotFound
from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.organisation import Organisation
from app.models.revision import RevisionOutcome
from app.services import audit, reference
from app.services.access import object_id
from app.services.capabilities import Action
from app.services.catalogue import revisions, signals
from app.services.catalogue.access import get_managed
from app.services.catalogue.derive import derive_after, organisation_fields, with_derived
from app.services.catalogue.kinds import REFERENCE_LISTS, CatalogueKind, T
from app.services.catalogue.viewer import Viewer
from app.services.versioning import check_version, save_versioned, validate_changes
from app.utils.text import sanitize_html, slugify

log = structlog.get_logger("app.catalogue")


async def check_references(
    kind: CatalogueKind[T], data: dict[str, Any], refs: reference.ActiveSlugs | None = None
) -> dict[str, Any]:
    """`data` with its reference slugs de-duplicated; 422 for an unknown or retired one.
    Bulk paths pass `refs` (every active slug, loaded once) instead of a query per list."""
    validate = refs.validate if refs is not None else reference.validate
    data = dict(data)
    if data.get("type") is not None:
        await validate(kind.type_kind, [data["type"]], "type")
    for name, ref_kind in REFERENCE_LISTS:
        if data.get(name) is not None:
            data[name] = await validate(ref_kind, data[name], name)
    for parent, name, ref_kind in kind.nested_references:
        if isinstance(data.get(parent), dict):
            nested = dict(data[parent])
            nested[name] = await validate(ref_kind, nested.get(name) or [], f"{parent}.{name}")
            data[parent] = nested
    return data


def check_staff_only(
    kind: CatalogueKind[T], who: Viewer, data: dict[str, Any], current: CatalogueItem | None
) -> None:
    """403 when a member tries to set a staff-only field to anything but what it is (or, on
    create, its default): such a field is never silently ignored."""
    if who.staff:
        return
    refused = []
    for name in sorted(kind.staff_only & set(data)):
        now = getattr(current, name) if current else kind.model.model_fields[name].default
        if not revisions.same(data[name], now):
            refused.append(name)
    if refused:
        raise Forbidden(
            f"Only staff and admins can set {', '.join(refused)}.",
            code="STAFF_ONLY_FIELD",
            details=[
                {"loc": ["body", name], "msg": "only staff and admins can set this field"}
                for name in refused
            ],
        )


def _sanitised(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("description") is None:
        return data
    return {**data, "description": sanitize_html(data["description"])}


# --- create -----------------------------------------------------------------------------------


async def _organisation_for_create(who: Viewer, organisation_id: str) -> Organisation:
    oid = object_id(organisation_id, "ORGANISATION_NOT_FOUND", "organisation")
    org = await Organisation.get(oid)
    if org is None or org.archived:
        raise NotFound("The organisation was not found.", code="ORGANISATION_NOT_FOUND")
    # Organisations are public: whether it exists is not the question; the caller's right is.
    who.require(Action.item_create, oid)
    return org


async def prepare(
    kind: CatalogueKind[T],
    who: Viewer,
    data: dict[str, Any],
    *,
    refs: reference.ActiveSlugs | None = None,
    organisation: Organisation | None = None,
    sanitise: bool = True,
) -> dict[str, Any]:
    """A create body's fields as they will be stored: the rule function, staff-only fields,
    the organisation (the caller's right to create there), references, sanitised HTML.
    Raises the API's own errors. Bulk paths pass the organisation and `refs` they loaded;
    a dry run, which only judges, may skip sanitising (it never refuses anything)."""
    data = {**data, **kind.rules(None, data)}
    check_staff_only(kind, who, data, None)
    organisation_id = data.pop("organisation_id")
    if organisation is None or str(organisation.id) != organisation_id:
        organisation = await _organisation_for_create(who, organisation_id)
    else:
        who.require(Action.item_create, organisation.id)
    data = await check_references(kind, data, refs)
    data = _sanitised(data) if sanitise else data
    data.setdefault("description", "")
    return {**data, **organisation_fields(organisation)}


async def create(
    kind: CatalogueKind[T],
    who: Viewer,
    data: dict[str, Any],
    *,
    system: dict[str, Any] | None = None,
    prepared: bool = False,
) -> T:
    """A draft of the caller's organisation, from a create body's fields. Ingestion passes
    `system` fields a body never has (its id, `pending_review`, provenance) and may pass
    data it already `prepare`d."""
    data = dict(data) if prepared else await prepare(kind, who, data)
    requested_slug = data.pop("slug", None)
    item = kind.model(
        **data,
        **(system or {}),
        slug=requested_slug or slugify(data["title"]),
        created_by=who.user.id,
    )
    item = with_derived(kind, item)
    await insert_with_slug(kind, item, explicit=requested_slug is not None)
    await audit.record(who.principal, "create", kind.entity, item.id, None, item.model_dump())
    log.info(f"{kind.entity}_created", item_id=str(item.id))
    return item


async def insert_with_slug(kind: CatalogueKind[T], item: T, *, explicit: bool) -> None:
    """Insert `item`; a generated slug that is taken gets a suffix (-2, -3, -4, then random),
    an explicit one is a 409. The unique index decides, so racing creators never collide."""
    base = item.slug
    fixed_id = item.id  # ingestion chooses the id up front (its upsert key points at it)
    for attempt in range(6):
        try:
            await item.insert()
            return
        except DuplicateKeyError as exc:
            if explicit:
                raise Conflict("This slug is already taken.", code="SLUG_TAKEN") from exc
            if fixed_id is not None and await kind.model.get(fixed_id) is not None:
                raise  # the id was taken (a concurrent insert of the same entry), not the slug
            item.id = fixed_id
            suffix = str(attempt + 2) if attempt < 3 else secrets.token_hex(3)
            item.slug = f"{base[:70]}-{suffix}"
    raise Conflict("Could not find a free slug; pass one explicitly.", code="SLUG_TAKEN")


# --- update -----------------------------------------------------------------------------------


async def update(
    kind: CatalogueKind[T],
    who: Viewer,
    key: str,
    changes: dict[str, Any],
    expected_version: int | None,
    *,
    as_member: bool = False,
) -> tuple[T, bool]:
    """The item after the edit, and whether some of it waits for staff.

    Staff, admins and unapproved items: every change is live (and audited). A member's
    change to an approved item: cosmetic fields live, moderated ones into the pending
    revision — both in one conditional write on `version` (If-Match covers both).
    `as_member`: moderate the change like a member's even when the caller is staff (a
    source re-run acts as the staff member who set the source up)."""
    item = await get_managed(kind, who, key)
    check_version(item, expected_version, kind.entity)
    if not changes:
        return item, False
    if item.status is ItemStatus.archived:
        raise Conflict(f"Restore the {kind.entity} before editing it.", code="ITEM_ARCHIVED")
    check_staff_only(kind, who, changes, item)
    changes = _sanitised(await check_references(kind, changes))
    if not revisions.applies(item, who.staff and not as_member) or not kind.moderated & set(
        changes
    ):
        # Cosmetic-only edits are checked against what is live: a pending revision that no
        # longer fits (staff changed the item) does not block them.
        return await _apply_live(kind, who, item, changes, expected_version), False
    return await _apply_with_revision(kind, who, item, changes, expected_version)


async def _apply_live(
    kind: CatalogueKind[T],
    who: Viewer,
    item: T,
    changes: dict[str, Any],
    expected_version: int | None,
) -> T:
    changes = {**changes, **kind.rules(item, changes)}
    changes.update(derive_after(kind, item, changes))
    fresh = await save_versioned(item, changes, expected_version, kind.entity)
    await _audit_update(who, kind, item, fresh)
    await signals.changed(kind, who, item, fresh, "update")
    return fresh


async def _audit_update(who: Viewer, kind: CatalogueKind[T], before: T, after: T) -> None:
    await audit.record(
        who.principal, "update", kind.entity, before.id, before.model_dump(), after.model_dump()
    )


async def _apply_with_revision(
    kind: CatalogueKind[T],
    who: Viewer,
    item: T,
    changes: dict[str, Any],
    expected_version: int | None,
) -> tuple[T, bool]:
    """A member's edit to approved content: cosmetic fields live, moderated ones merged into
    the pending revision; the rules run on the state staff would approve (live + pending
    revision + this edit). One conditional write."""
    sent = set(changes)
    pending = revisions.pending_changes(item)
    prospective = validate_changes(item, pending, kind.entity) if pending else item
    changes = {**changes, **kind.rules(prospective, changes)}  # implied values (rolling…)
    live = {k: v for k, v in changes.items() if k in sent and k not in kind.moderated}
    proposed = {k: v for k, v in changes.items() if k in kind.moderated}
    if live:
        live = {**live, **kind.rules(item, live)}
    revised = revisions.merge(item, proposed)
    validate_changes(item, {**revised, **live}, kind.entity)
    write: dict[str, Any] = dict(live)
    if live:
        write.update(derive_after(kind, item, live))
    if revised or item.pending_revision is not None:
        write["pending_revision"] = revisions.revise(item, revised, who.user)
        if not revised:  # this edit took back everything that was pending
            write["revision_decision"] = revisions.decision(
                item, RevisionOutcome.withdrawn, who.user
            )
    if not write:
        return item, False
    fresh = await save_versioned(item, write, expected_version, kind.entity, touch=bool(live))
    if live:
        await _audit_update(who, kind, item, fresh)
        await signals.changed(kind, who, item, fresh, "update")
    if revised:
        await audit_revision(who, "revision_propose", kind, item, _live(item, revised), revised)
    elif item.pending_revision is not None:
        earlier = revisions.pending_changes(item)
        await audit_revision(who, "revision_withdraw", kind, item, earlier, _live(item, earlier))
    return fresh, bool(proposed) and bool(revised)


def _live(item: CatalogueItem, fields: dict[str, Any]) -> dict[str, Any]:
    return {name: getattr(item, name) for name in fields}


async def audit_revision(
    who: Viewer,
    action: str,
    kind: CatalogueKind[T],
    item: CatalogueItem,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """Revision events: the fields with what they were and what they became (or would)."""
    await audit.record(who.principal, action, kind.entity, item.id, before, after)
