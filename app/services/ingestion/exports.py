"""Exports for staff: every item matching a list's filters, streamed as CSV or JSON Lines
(page by page through the one keyset codec, never the whole result in memory). Columns
are create-body names (nested ones dotted), so an export can be edited and imported back;
CSV cells are neutralised against formula injection."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, Literal

from app.core.pagination import PageParams, paginate
from app.models.base import iso_z
from app.models.catalogue import CatalogueItem
from app.schemas.catalogue import CatalogueQuery
from app.services.auth import Principal
from app.services.catalogue import CatalogueKind, Viewer, viewer
from app.services.catalogue.geo import within_radius
from app.services.catalogue.search import combine, filter_clauses
from app.utils.csv_safe import neutralise
from app.utils.text import tokens

ExportFormat = Literal["csv", "jsonl"]
PAGE = 500
COMMON = ["id", "slug", "status", "title", "type", "organisation_id", "organisation_name"]
LISTS = ["tags", "industries", "sdgs", "target_communities"]
TRAILER = ["description", "created_at", "updated_at", "published_at", "provenance.origin",
           "provenance.external_id", "provenance.url"]  # fmt: skip
OWN: dict[str, list[str]] = {
    "opportunity": [
        "summary", "amount_min", "amount_max", "currency", "deadline", "rolling",
        "application_url", "eligibility.countries", "eligibility.regions",
        "eligibility.stages", "eligibility.industries", "eligibility.target_communities",
        "eligibility.criteria", "featured",
    ],
    "event": [
        "start_at", "end_at", "timezone", "format", "venue.name", "venue.address",
        "venue.city", "venue.region", "venue.country", "venue.lat", "venue.lng",
        "online_url", "capacity", "registration_deadline", "price", "currency",
        "going_count",
    ],
}  # fmt: skip
# Columns an import ignores: they describe the exported item, not a create body (and an
# imported item gets a slug of its own, so importing an export never collides on it).
EXPORT_ONLY = frozenset(
    {
        "id",
        "slug",
        "status",
        "organisation_name",
        "created_at",
        "updated_at",
        "published_at",
        "going_count",
        "provenance",
    }
)


def columns(kind: CatalogueKind[Any]) -> list[str]:
    return [*COMMON, *LISTS, *OWN[kind.entity], *TRAILER]


def _value(item: CatalogueItem, dotted: str, status: str) -> Any:
    if dotted == "status":
        return status
    value: Any = item
    for part in dotted.split("."):
        value = getattr(value, part, None) if value is not None else None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, list):
        return neutralise(";".join(str(v) for v in value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)  # numbers are not formulas (and -1.28 must stay a number)
    return neutralise(str(getattr(value, "value", value)))


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in flat.items():
        target = out
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return out


async def filters(kind: CatalogueKind[Any], who: Viewer, query: CatalogueQuery) -> dict[str, Any]:
    """The list's filters (validated before the response starts: an unknown slug is a 422)."""
    clauses = await filter_clauses(kind, who, query)
    if query.updated_since is not None:
        clauses.append({"updated_at": {"$gt": query.updated_since}})
    if query.q:
        clauses.append({"search_tokens": {"$all": tokens(query.q)}})
    if query.near is not None:
        near = await within_radius(kind, combine(clauses), query.near)
        clauses.append({"_id": {"$in": list(near)}})
    return combine(clauses)


async def stream(
    kind: CatalogueKind[Any], query: CatalogueQuery, where: dict[str, Any], fmt: ExportFormat
) -> AsyncIterator[str]:
    names = columns(kind)
    sort = kind.sorts[query.sort or kind.default_sort]
    render: Callable[[dict[str, Any]], str]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)

        def render(row: dict[str, Any]) -> str:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([_cell(row[n]) for n in names])
            return buffer.getvalue()

        yield render({n: n for n in names})
    else:

        def render(row: dict[str, Any]) -> str:
            return json.dumps(_nested(row), default=_json_default, ensure_ascii=False) + "\n"

    cursor: str | None = None
    while True:
        items, cursor, _ = await paginate(kind.model, where, sort, PageParams(PAGE, cursor))
        for item in items:
            status = kind.reader_status(item).value
            yield render({n: _value(item, n, status) for n in names})
        if cursor is None:
            return


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_z(value)
    return str(getattr(value, "value", value))


async def export(
    who: Principal, kind: CatalogueKind[Any], query: CatalogueQuery, fmt: ExportFormat
) -> tuple[str, AsyncIterator[str]]:
    """(file name, the rows to stream). The filters are checked before anything streams."""
    where = await filters(kind, await viewer(who), query)
    plural = "opportunities" if kind.entity == "opportunity" else f"{kind.entity}s"
    name = f"{plural}.{fmt}"  # the same for HEAD and GET (no timestamp)
    return name, stream(kind, query, where, fmt)
