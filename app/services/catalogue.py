"""Rules shared by opportunities and events: visibility, workflow, edits, search and lists.

Search and geo work the same on MongoDB and the embedded backend (which has no `$text` or
`$near`): free text matches normalised tokens stored in a multikey-indexed array, relevance
is scored in Python over the matching ids, and "near" is a bounding-box query on plain
lat/lng fields refined by exact great-circle distance.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import structlog
from beanie import Document, PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.exceptions import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from app.core.pagination import PageParams, SortSpec, decode_cursor, encode_cursor, paginate
from app.models.base import utcnow
from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.organisation import Organisation, OrgRole
from app.models.reference import ReferenceKind
from app.models.revision import RevisionOutcome
from app.services import audit, capabilities, reference, revisions
from app.services.access import by_id_or_slug, is_staff, member_roles, object_id
from app.services.auth import Principal
from app.services.capabilities import Action
from app.services.versioning import check_version, save_versioned, validate_changes
from app.utils.geo import bounding_box_filter, haversine_km
from app.utils.text import sanitize_html, slugify, strip_html, token_set, tokens

log = structlog.get_logger("app.catalogue")

T = TypeVar("T", bound=CatalogueItem)

MAX_SCORED_MATCHES = 5000  # relevance and geo refine at most this many candidates in Python
RELEVANCE = "relevance"
# Scores are computed, not stored: the field name is never queried, only the cursor codec's
# value type matters (a small non-negative int), with the id descending as tie-breaker.
RELEVANCE_SORT = SortSpec(RELEVANCE, "_score", -1, kind="int")


@dataclass(frozen=True)
class CatalogueKind(Generic[T]):
    model: type[T]
    entity: str  # "opportunity"
    code: str  # "OPPORTUNITY"
    type_kind: ReferenceKind
    sorts: dict[str, SortSpec]
    default_sort: str
    facet_fields: dict[str, tuple[str, bool]]  # facet name -> (field, is_array)
    text_fields: tuple[str, ...] = ("title", "description")
    # (collection model, field holding this item's id): removed with the item on purge
    related: tuple[tuple[type[Document], str], ...] = ()
    # Rules across fields over the state after a change: raise ValidationFailed, and add
    # what follows from the change (derived fields, implied values) to `changes` in place.
    rules: Callable[[Any, dict[str, Any]], None] | None = None
    # What readers rely on: a member's change to these waits for staff once approved.
    moderated: frozenset[str] = frozenset()
    # Only staff and admins may set these (e.g. `featured`, which boosts ranking).
    staff_only: frozenset[str] = frozenset()

    def not_found(self) -> NotFound:
        return NotFound(f"The {self.entity} was not found.", code=f"{self.code}_NOT_FOUND")


@dataclass
class Viewer:
    """The caller plus their role in each organisation they belong to (loaded once per
    request). What they may do with an item is `capabilities.TABLE`'s answer."""

    principal: Principal | None
    org_roles: dict[PydanticObjectId, OrgRole] = field(default_factory=dict)

    @property
    def staff(self) -> bool:
        return is_staff(self.principal)

    def can(self, action: Action, organisation_id: PydanticObjectId | None) -> bool:
        role = self.org_roles.get(organisation_id) if organisation_id else None
        return capabilities.allows(self.principal, role, action)

    def require(self, action: Action, organisation_id: PydanticObjectId | None) -> None:
        role = self.org_roles.get(organisation_id) if organisation_id else None
        capabilities.require(self.principal, role, action)

    def manages(self, item: CatalogueItem) -> bool:
        """Sees the item whatever its status (drafts, reasons, links)."""
        return self.can(Action.item_view_unpublished, item.organisation_id)

    @property
    def org_ids(self) -> set[PydanticObjectId]:
        """Organisations whose non-public items the caller sees (for list filters)."""
        return {o for o in self.org_roles if self.can(Action.item_view_unpublished, o)}


async def viewer(principal: Principal | None) -> Viewer:
    return Viewer(principal, await member_roles(principal))


# --- loading with object-level authorization --------------------------------------------------


async def _fetch(kind: CatalogueKind[T], key: str) -> T | None:
    return await by_id_or_slug(kind.model, key)


def is_public(item: CatalogueItem) -> bool:
    return item.status is ItemStatus.published


def visible_to(who: Viewer, item: CatalogueItem) -> bool:
    """The one visibility rule: published items are public; anything else only for its
    organisation and staff. Every read path (items, lists, /me, .ics, attendees) uses it."""
    return is_public(item) or who.manages(item)


async def get_visible(kind: CatalogueKind[T], who: Viewer, key: str) -> T:
    item = await _fetch(kind, key)
    if item is None or not visible_to(who, item):
        raise kind.not_found()
    return item


async def get_for_own_row(
    kind: CatalogueKind[T], who: Viewer, key: str, has_row: Callable[[T], Awaitable[bool]]
) -> T:
    """For letting go of your own save, application or RSVP: also when the item is no
    longer visible to you, as long as you have one (otherwise it is simply not found)."""
    item = await _fetch(kind, key)
    if item is None or not (visible_to(who, item) or await has_row(item)):
        raise kind.not_found()
    return item


async def get_managed(
    kind: CatalogueKind[T], who: Viewer, key: str, action: Action = Action.item_edit
) -> T:
    """For `action` on an item: 404 when the caller cannot see it (not knowing it exists),
    403 when they see it but the capability table denies them the action."""
    item = await _fetch(kind, key)
    if item is None or not (item.status is ItemStatus.published or who.manages(item)):
        raise kind.not_found()
    who.require(action, item.organisation_id)
    return item


# --- create and update ------------------------------------------------------------------------


async def check_references(kind: CatalogueKind[T], data: dict[str, Any]) -> None:
    """422 for any unknown or retired reference slug in `data` (in place: de-duplicated)."""
    if "type" in data and data["type"] is not None:
        await reference.validate(kind.type_kind, [data["type"]], "type")
    for name, ref_kind in (
        ("tags", ReferenceKind.tags),
        ("industries", ReferenceKind.industries),
        ("sdgs", ReferenceKind.sdgs),
        ("target_communities", ReferenceKind.target_communities),
    ):
        if data.get(name) is not None:
            data[name] = await reference.validate(ref_kind, data[name], name)
    eligibility = data.get("eligibility")
    if isinstance(eligibility, dict):
        for name, ref_kind in (
            ("industries", ReferenceKind.industries),
            ("target_communities", ReferenceKind.target_communities),
        ):
            eligibility[name] = await reference.validate(
                ref_kind, eligibility.get(name) or [], f"eligibility.{name}"
            )


def search_fields(kind: CatalogueKind[T], item: CatalogueItem) -> dict[str, list[str]]:
    texts = [getattr(item, f, "") or "" for f in kind.text_fields]
    texts = [strip_html(t) if "<" in t else t for t in texts]
    tag_words = [t.replace("-", " ") for t in item.tags]
    return {
        "search_tokens": token_set([*texts, item.organisation_name, *tag_words]),
        "title_tokens": tokens(item.title),
    }


async def _organisation_for_create(who: Viewer, organisation_id: str) -> Organisation:
    oid = object_id(organisation_id, "ORGANISATION_NOT_FOUND", "organisation")
    org = await Organisation.get(oid)
    if org is None or org.archived:
        raise NotFound("The organisation was not found.", code="ORGANISATION_NOT_FOUND")
    # Organisations are public: whether it exists is not the question; the caller's right is.
    who.require(Action.item_create, oid)
    return org


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


async def create(kind: CatalogueKind[T], who: Viewer, data: dict[str, Any]) -> T:
    assert who.principal is not None  # noqa: S101 - endpoints require a user
    check_staff_only(kind, who, data, None)
    org = await _organisation_for_create(who, data.pop("organisation_id"))
    await check_references(kind, data)
    data["description"] = sanitize_html(data.get("description") or "")
    requested_slug = data.pop("slug", None)
    item = kind.model(
        **data,
        slug=requested_slug or slugify(data["title"]),
        organisation_id=org.id,
        organisation_name=org.name,
        organisation_slug=org.slug,
        created_by=who.principal.id,
    )
    for name, value in search_fields(kind, item).items():
        setattr(item, name, value)
    await _insert_with_slug(kind, item, explicit=requested_slug is not None)
    await audit.record(who.principal, "create", kind.entity, item.id, None, item.model_dump())
    log.info(f"{kind.entity}_created", item_id=str(item.id))
    return item


async def _insert_with_slug(kind: CatalogueKind[T], item: T, *, explicit: bool) -> None:
    base = item.slug
    for attempt in range(6):
        try:
            await item.insert()
            return
        except DuplicateKeyError as exc:
            if explicit:
                raise Conflict("This slug is already taken.", code="SLUG_TAKEN") from exc
            item.id = None
            suffix = str(attempt + 2) if attempt < 3 else secrets.token_hex(3)
            item.slug = f"{base[:70]}-{suffix}"
    raise Conflict("Could not find a free slug; pass one explicitly.", code="SLUG_TAKEN")


@dataclass
class Edit(Generic[T]):
    item: T
    queued: bool  # some of the changes wait for staff in the item's pending revision


async def update(
    kind: CatalogueKind[T],
    who: Viewer,
    key: str,
    changes: dict[str, Any],
    expected_version: int | None,
) -> Edit[T]:
    """Staff, admins and unapproved items: every change is live (and audited). A member's
    change to an approved item: cosmetic fields live, moderated ones into the pending
    revision — both in one conditional write on `version` (If-Match covers both)."""
    assert who.principal is not None  # noqa: S101 - endpoints require a user
    item = await get_managed(kind, who, key)
    check_version(item, expected_version, kind.entity)
    if not changes:
        return Edit(item, False)
    if item.status is ItemStatus.archived:
        raise Conflict(f"Restore the {kind.entity} before editing it.", code="ITEM_ARCHIVED")
    check_staff_only(kind, who, changes, item)
    await check_references(kind, changes)
    if "description" in changes and changes["description"] is not None:
        changes["description"] = sanitize_html(changes["description"])
    if not revisions.applies(item, who.staff) or not kind.moderated & set(changes):
        # Cosmetic-only edits are checked against what is live: a pending revision that no
        # longer fits (staff changed the item) does not block them.
        return Edit(await _apply_live(kind, who, item, changes, expected_version), False)

    return await _apply_with_revision(kind, who, item, changes, expected_version)


async def _apply_with_revision(
    kind: CatalogueKind[T],
    who: Viewer,
    item: T,
    changes: dict[str, Any],
    expected_version: int | None,
) -> Edit[T]:
    """A member's edit to approved content: cosmetic fields live, moderated ones merged into
    the pending revision; the rules run on the state staff would approve (live + pending
    revision + this edit). One conditional write."""
    assert who.principal is not None  # noqa: S101
    sent = set(changes)
    pending = revisions.pending_changes(item)
    prospective = validate_changes(item, pending, kind.entity) if pending else item
    if kind.rules:
        kind.rules(prospective, changes)  # may add implied moderated values (rolling…)
    live = {k: v for k, v in changes.items() if k in sent and k not in kind.moderated}
    proposed = {k: v for k, v in changes.items() if k in kind.moderated}
    if kind.rules and live:
        kind.rules(item, live)  # derived fields for what goes live now
    revised = revisions.merge(item, proposed)
    validate_changes(item, {**revised, **live}, kind.entity)
    write: dict[str, Any] = dict(live)
    if live:
        write.update(search_fields(kind, item.model_copy(update=live)))
    if revised or item.pending_revision is not None:
        write["pending_revision"] = revisions.revise(item, revised, who.principal)
        if not revised:  # this edit took back everything that was pending
            write["revision_decision"] = revisions.decision(
                item, RevisionOutcome.withdrawn, who.principal
            )
    if not write:
        return Edit(item, False)
    fresh = await save_versioned(item, write, expected_version, kind.entity, touch=bool(live))
    if live:
        await audit.record(
            who.principal, "update", kind.entity, item.id, item.model_dump(), fresh.model_dump()
        )
    if revised:
        await audit_revision(who, "revision_propose", kind, item, _live(item, revised), revised)
    elif item.pending_revision is not None:
        earlier = revisions.pending_changes(item)
        await audit_revision(who, "revision_withdraw", kind, item, earlier, _live(item, earlier))
    return Edit(fresh, bool(proposed) and bool(revised))


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


async def _apply_live(
    kind: CatalogueKind[T],
    who: Viewer,
    item: T,
    changes: dict[str, Any],
    expected_version: int | None,
) -> T:
    if kind.rules:
        kind.rules(item, changes)
    before = item.model_dump()
    changes.update(search_fields(kind, item.model_copy(update=changes)))
    fresh = await save_versioned(item, changes, expected_version, kind.entity)
    await audit.record(who.principal, "update", kind.entity, item.id, before, fresh.model_dump())
    return fresh


# --- workflow ---------------------------------------------------------------------------------

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
    return item.id


# --- lists ------------------------------------------------------------------------------------


@dataclass
class CommonFilters:
    """Filters opportunities and events share; each kind adds its own."""

    types: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    sdgs: list[str] = field(default_factory=list)
    target_communities: list[str] = field(default_factory=list)
    organisation: str | None = None
    country: str | None = None
    region: str | None = None


async def common_clauses(
    f: CommonFilters, type_kind: ReferenceKind, country_path: str, region_path: str
) -> list[dict[str, Any]]:
    clauses = await reference_clauses(
        [
            (f.types, type_kind, "type"),
            (f.industries, ReferenceKind.industries, "industries"),
            (f.tags, ReferenceKind.tags, "tags"),
            (f.sdgs, ReferenceKind.sdgs, "sdgs"),
            (f.target_communities, ReferenceKind.target_communities, "target_communities"),
        ]
    )
    if f.organisation:
        # By id or slug; an unknown one simply matches nothing.
        if PydanticObjectId.is_valid(f.organisation):
            clauses.append({"organisation_id": PydanticObjectId(f.organisation)})
        else:
            clauses.append({"organisation_slug": f.organisation})
    if f.country:
        clauses.append({country_path: f.country})
    if f.region:
        clauses.append({region_path: f.region})
    return clauses


def range_clause(path: str, low: Any, high: Any) -> list[dict[str, Any]]:
    window = {op: v for op, v in (("$gte", low), ("$lte", high)) if v is not None}
    return [{path: window}] if window else []


async def reference_clauses(
    wanted: list[tuple[list[str], ReferenceKind, str]],
) -> list[dict[str, Any]]:
    """`field $in values` for each (values, kind, field), after checking every slug exists
    (an unknown one is a 422, not an empty page)."""
    clauses: list[dict[str, Any]] = []
    for values, ref_kind, path in wanted:
        if values:
            await reference.validate(ref_kind, values, path)
            clauses.append({path: {"$in": list(dict.fromkeys(values))}})
    return clauses


@dataclass
class ListQuery:
    clauses: list[dict[str, Any]]
    q: str | None = None
    sort: str | None = None
    status: ItemStatus | None = None
    updated_since: datetime | None = None
    facets: list[str] = field(default_factory=list)
    near: tuple[float, float, float] | None = None  # lat, lng, radius km
    geo_fields: tuple[str, str] = ("venue.lat", "venue.lng")


@dataclass
class ListResult(Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int | None
    facets: dict[str, list[dict[str, Any]]] | None
    distances: dict[PydanticObjectId, float]
    # Items that left the public set (incremental sync): shown as tombstones only.
    gone: set[PydanticObjectId] = field(default_factory=set)


SYNC_SORT = "updated"


def _visibility(who: Viewer, query: ListQuery) -> dict[str, Any]:
    if query.status is None or query.status is ItemStatus.published:
        return {"status": ItemStatus.published.value}
    if who.staff:
        return {"status": query.status.value}
    return {"status": query.status.value, "organisation_id": {"$in": sorted(who.org_ids)}}


# Incremental sync also returns what left the public set, so clients can drop it. Those
# items are matched by no other filter (q, facets, geo, reference filters…) and ordered by
# `updated_at` only: a filter or a sort position would tell what they contain.
GONE: dict[str, Any] = {"status": {"$ne": ItemStatus.published.value}, "ever_published": True}


def _combine(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    clauses = [c for c in clauses if c]
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _sort_name(kind: CatalogueKind[T], query: ListQuery) -> str:
    if query.updated_since is not None:
        if query.sort not in (None, SYNC_SORT):
            raise ValidationFailed(
                "updated_since lists in the order of change: sort=updated.",
                code="INVALID_SORT",
                details=[{"loc": ["query", "sort"], "msg": "only 'updated' with updated_since"}],
            )
        return SYNC_SORT
    if query.sort is not None:
        if query.sort != RELEVANCE and query.sort not in kind.sorts:
            raise _bad_sort(kind, query.sort)
        return query.sort
    return RELEVANCE if query.q else kind.default_sort


async def list_items(
    kind: CatalogueKind[T], who: Viewer, query: ListQuery, page: PageParams
) -> ListResult[T]:
    sort_name = _sort_name(kind, query)
    unknown_facets = [f for f in query.facets if f not in kind.facet_fields]
    if unknown_facets:
        raise ValidationFailed(
            f"Unknown facets: {', '.join(unknown_facets)}.",
            code="INVALID_FACET",
            details=[{"loc": ["query", "facets"], "msg": f"one of {sorted(kind.facet_fields)}"}],
        )
    clauses = [_visibility(who, query), *query.clauses]
    since = {"updated_at": {"$gt": query.updated_since}} if query.updated_since else {}
    clauses.append(since)
    q_tokens = tokens(query.q) if query.q else []
    if query.q is not None and not q_tokens:
        raise ValidationFailed("The search text has no searchable words.", code="INVALID_QUERY")
    if q_tokens:
        clauses.append({"search_tokens": {"$all": q_tokens}})
    distances: dict[PydanticObjectId, float] = {}
    if query.near is not None:
        distances = await _within_radius(kind, _combine(clauses), query)
        clauses.append({"_id": {"$in": list(distances)}})
    matching = _combine(clauses)  # the visible items that match every filter
    syncing = query.updated_since is not None and query.status is None
    filters = {"$or": [matching, _combine([since, GONE])]} if syncing else matching

    if sort_name == RELEVANCE:
        if not q_tokens:
            raise ValidationFailed("sort=relevance needs q.", code="INVALID_SORT")
        items, cursor = await _relevance_page(kind, filters, q_tokens, page)
        total = await kind.model.find(filters).count() if page.include_total else None
    else:
        items, cursor, total = await paginate(kind.model, filters, kind.sorts[sort_name], page)
    facets = await _facets(kind, matching, query.facets) if query.facets else None
    gone = {i.id for i in items if i.id is not None and not is_public(i)} if syncing else set()
    return ListResult(items, cursor, total, facets, distances, gone)


def _bad_sort(kind: CatalogueKind[T], name: str) -> ValidationFailed:
    return ValidationFailed(
        f"Unknown sort '{name}'.",
        code="INVALID_SORT",
        details=[{"loc": ["query", "sort"], "msg": f"one of {sorted([*kind.sorts, RELEVANCE])}"}],
    )


async def _within_radius(
    kind: CatalogueKind[T], filters: dict[str, Any], query: ListQuery
) -> dict[PydanticObjectId, float]:
    assert query.near is not None  # noqa: S101
    lat, lng, radius = query.near
    lat_field, lng_field = query.geo_fields
    box = bounding_box_filter(lat_field, lng_field, lat, lng, radius)
    candidates = kind.model.get_motor_collection().find(
        _combine([filters, box]), {lat_field: 1, lng_field: 1}
    )
    found: dict[PydanticObjectId, float] = {}
    async for doc in candidates.limit(MAX_SCORED_MATCHES):
        point = doc
        for part in lat_field.split(".")[:-1]:
            point = point.get(part) or {}
        p_lat, p_lng = (
            point.get(lat_field.rsplit(".", 1)[-1]),
            point.get(lng_field.rsplit(".", 1)[-1]),
        )
        if p_lat is None or p_lng is None:
            continue
        distance = haversine_km(lat, lng, p_lat, p_lng)
        if distance <= radius:
            found[PydanticObjectId(doc["_id"])] = distance
    return found


def _score(q_tokens: list[str], doc: dict[str, Any]) -> int:
    title = set(doc.get("title_tokens") or [])
    return sum(3 if t in title else 1 for t in q_tokens) + (1 if doc.get("featured") else 0)


async def _relevance_page(
    kind: CatalogueKind[T], filters: dict[str, Any], q_tokens: list[str], page: PageParams
) -> tuple[list[T], str | None]:
    cursor_key = decode_cursor(RELEVANCE_SORT, page.cursor) if page.cursor else None
    scored: list[tuple[int, PydanticObjectId]] = []
    matches = (
        kind.model.get_motor_collection()
        .find(filters, {"title_tokens": 1, "featured": 1})
        .limit(MAX_SCORED_MATCHES)
    )
    async for doc in matches:
        scored.append((_score(q_tokens, doc), PydanticObjectId(doc["_id"])))
    scored.sort(key=lambda pair: (-pair[0], -int(str(pair[1]), 16)))
    if cursor_key is not None:
        c_score, c_id = cursor_key
        c_int = int(str(c_id), 16)
        scored = [
            (s, i) for s, i in scored if s < c_score or (s == c_score and int(str(i), 16) < c_int)
        ]
    window = scored[: page.limit + 1]
    ids = [i for _, i in window[: page.limit]]
    docs = {d.id: d for d in await kind.model.find({"_id": {"$in": ids}}).to_list()}
    items = [docs[i] for i in ids if i in docs]
    next_cursor = None
    if len(window) > page.limit:
        last_score, last_id = window[page.limit - 1]
        next_cursor = encode_cursor(RELEVANCE_SORT, last_score, last_id)
    return items, next_cursor


async def _facets(
    kind: CatalogueKind[T], filters: dict[str, Any], names: list[str]
) -> dict[str, list[dict[str, Any]]]:
    branches: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        path, is_array = kind.facet_fields[name]
        stages: list[dict[str, Any]] = []
        if is_array:
            stages.append({"$unwind": f"${path}"})
        else:
            stages.append({"$match": {path: {"$ne": None}}})
        stages += [
            {"$group": {"_id": f"${path}", "count": {"$sum": 1}}},
            {"$sort": {"count": -1, "_id": 1}},
            {"$limit": 100},
        ]
        branches[name] = stages
    pipeline = [{"$match": filters}, {"$facet": branches}]
    result = await kind.model.get_motor_collection().aggregate(pipeline).to_list(length=1)
    row = result[0] if result else {}
    return {
        name: [{"value": str(b["_id"]), "count": int(b["count"])} for b in row.get(name, [])]
        for name in names
    }


# --- organisation renames ---------------------------------------------------------------------


async def refresh_organisation(kind: CatalogueKind[T], org: Organisation) -> int:
    """Re-denormalise an organisation's name/slug (and search tokens) into its items."""
    changed = 0
    async for item in kind.model.find({"organisation_id": org.id}):
        item.organisation_name, item.organisation_slug = org.name, org.slug
        fields = search_fields(kind, item)
        await kind.model.get_motor_collection().update_one(
            {"_id": item.id},
            {
                "$set": {
                    "organisation_name": org.name,
                    "organisation_slug": org.slug,
                    **fields,
                    "updated_at": utcnow(),
                }
            },
        )
        changed += 1
    return changed
