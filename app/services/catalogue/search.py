"""Lists: filters, free-text search with relevance, facets, geo, incremental sync.

Search works the same on MongoDB and the embedded backend (which has no `$text`): free
text matches normalised tokens stored in a multikey-indexed array, and relevance is scored
in Python over the matching ids, paged with the one cursor codec (`core/pagination.py`).
The parameters arrive validated by the kind's query model (sorts and facets it offers,
rules between parameters); what needs the database (reference slugs) is checked here.
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from app.core.pagination import PageParams, SortSpec, decode_cursor, encode_cursor, paginate
from app.models.catalogue import ItemStatus
from app.models.reference import ReferenceKind
from app.schemas.catalogue import CatalogueQuery
from app.services import reference
from app.services.catalogue.access import Listing, is_public, show
from app.services.catalogue.geo import MAX_SCORED_MATCHES, within_radius
from app.services.catalogue.kinds import REFERENCE_LISTS, CatalogueKind, T
from app.services.catalogue.viewer import Viewer
from app.utils.text import tokens

RELEVANCE = "relevance"
SYNC_SORT = "updated"
# Scores are computed, not stored: the field name is never queried, only the cursor codec's
# value type matters (a small non-negative int), with the id descending as tie-breaker.
RELEVANCE_SORT = SortSpec(RELEVANCE, "_score", -1, kind="int")
# Incremental sync also returns what left the public set, so clients can drop it. Those
# items are matched by no other filter (q, facets, geo, reference filters…) and ordered by
# `updated_at` only: a filter or a sort position would tell what they contain.
GONE: dict[str, Any] = {"status": {"$ne": ItemStatus.published.value}, "ever_published": True}
FACET_LIMIT = 100


def combine(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    clauses = [c for c in clauses if c]
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def range_clause(path: str, low: Any, high: Any) -> list[dict[str, Any]]:
    window = {op: v for op, v in (("$gte", low), ("$lte", high)) if v is not None}
    return [{path: window}] if window else []


def _visibility(who: Viewer, status: ItemStatus | None) -> dict[str, Any]:
    if status is None or status is ItemStatus.published:
        return {"status": ItemStatus.published.value}
    if who.staff:
        return {"status": status.value}
    return {"status": status.value, "organisation_id": {"$in": sorted(who.org_ids)}}


async def _common_clauses(kind: CatalogueKind[T], query: CatalogueQuery) -> list[dict[str, Any]]:
    """Filters every kind offers: reference lists (each slug must exist: an unknown one is a
    422, not an empty page), organisation, country, region."""
    clauses: list[dict[str, Any]] = []
    wanted: list[tuple[list[str], ReferenceKind, str]] = [(query.type, kind.type_kind, "type")]
    wanted += [(getattr(query, name), ref_kind, name) for name, ref_kind in REFERENCE_LISTS]
    for values, ref_kind, path in wanted:
        if values:
            await reference.validate(ref_kind, values, path, where="query")
            clauses.append({path: {"$in": list(dict.fromkeys(values))}})
    if query.organisation:
        # By id or slug; an unknown one simply matches nothing.
        if PydanticObjectId.is_valid(query.organisation):
            clauses.append({"organisation_id": PydanticObjectId(query.organisation)})
        else:
            clauses.append({"organisation_slug": query.organisation})
    if query.country:
        clauses.append({kind.country_field: query.country})
    if query.region:
        clauses.append({kind.region_field: query.region})
    return clauses


def _sort_name(kind: CatalogueKind[T], query: CatalogueQuery) -> str:
    if query.updated_since is not None:
        return SYNC_SORT
    if query.sort is not None:
        return query.sort
    return RELEVANCE if query.q else kind.default_sort


async def filter_clauses(
    kind: CatalogueKind[T], who: Viewer, query: CatalogueQuery
) -> list[dict[str, Any]]:
    """The list's filters for this caller (visibility, reference lists, the kind's own),
    before free text, geo and sync: lists and exports (services/ingestion/exports.py)
    filter alike."""
    return [
        _visibility(who, query.status),
        *await _common_clauses(kind, query),
        *kind.filters(query),
    ]


async def list_items(kind: CatalogueKind[T], who: Viewer, query: CatalogueQuery) -> Listing[T]:
    page = query.page
    clauses = await filter_clauses(kind, who, query)
    since = {"updated_at": {"$gt": query.updated_since}} if query.updated_since else {}
    clauses.append(since)
    q_tokens = tokens(query.q) if query.q else []
    if q_tokens:
        clauses.append({"search_tokens": {"$all": q_tokens}})
    distances: dict[PydanticObjectId, float] = {}
    if query.near is not None:
        distances = await within_radius(kind, combine(clauses), query.near)
        clauses.append({"_id": {"$in": list(distances)}})
    matching = combine(clauses)  # the visible items that match every filter
    syncing = query.updated_since is not None and query.status is None
    filters = {"$or": [matching, combine([since, GONE])]} if syncing else matching

    sort_name = _sort_name(kind, query)
    if sort_name == RELEVANCE:
        items, cursor = await _relevance_page(kind, filters, q_tokens, page)
        total = await kind.model.find(filters).count() if page.include_total else None
    else:
        items, cursor, total = await paginate(kind.model, filters, kind.sorts[sort_name], page)
    facets = await _facets(kind, matching, list(query.facets)) if query.facets else None
    gone = {i.id for i in items if i.id is not None and not is_public(i)} if syncing else set()
    views = await show(kind, who, items, gone=gone, distances=distances)
    return Listing(views, cursor, total, facets)


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
) -> dict[str, list[dict[str, object]]]:
    branches: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        path, is_array = kind.facet_fields[name]
        first = {"$unwind": f"${path}"} if is_array else {"$match": {path: {"$ne": None}}}
        branches[name] = [
            first,
            {"$group": {"_id": f"${path}", "count": {"$sum": 1}}},
            {"$sort": {"count": -1, "_id": 1}},
            {"$limit": FACET_LIMIT},
        ]
    pipeline = [{"$match": filters}, {"$facet": branches}]
    result = await kind.model.get_motor_collection().aggregate(pipeline).to_list(length=1)
    row = result[0] if result else {}
    return {
        name: [{"value": str(b["_id"]), "count": int(b["count"])} for b in row.get(name, [])]
        for name in names
    }
