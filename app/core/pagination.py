"""Keyset pagination: opaque cursors, allowlisted sorts, `_id` as the tie-breaker."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from beanie import Document, SortDirection
from bson import ObjectId
from bson.errors import InvalidId
from pydantic import BaseModel, Field

from app.core.exceptions import ValidationFailed

T = TypeVar("T")
D = TypeVar("D", bound=Document)

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Opaque cursor for the next page; null on the last page."
    )
    total: int | None = Field(default=None, description="Only when include_total=true.")


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    include_total: bool = False


@dataclass(frozen=True, slots=True)
class SortSpec:
    """A sort the API offers: its public name, the stored field and its direction."""

    name: str
    field: str
    direction: int  # 1 ascending, -1 descending


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed(
        "The cursor is malformed or belongs to another sort.",
        code="INVALID_CURSOR",
        details=[{"loc": ["query", "cursor"], "msg": "malformed cursor", "type": "value_error"}],
    )


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return ["d", value.isoformat()]
    if isinstance(value, ObjectId):
        return ["o", str(value)]
    if value is None or isinstance(value, bool | int | float | str):
        return ["v", value]
    raise TypeError(f"unsupported cursor value {type(value)!r}")


def _decode_value(raw: Any) -> Any:
    if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], str)):
        raise _bad_cursor()
    tag, value = raw
    try:
        if tag == "d" and isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise _bad_cursor()
            return parsed.astimezone(UTC)
        if tag == "o" and isinstance(value, str):
            return ObjectId(value)
        if tag == "v" and (value is None or isinstance(value, bool | int | float | str)):
            return value
    except (ValueError, InvalidId) as exc:
        raise _bad_cursor() from exc
    raise _bad_cursor()


def encode_cursor(sort: SortSpec, value: Any, doc_id: ObjectId | str) -> str:
    payload = {"s": sort.name, "v": _encode_value(value), "i": str(doc_id)}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: SortSpec, cursor: str) -> tuple[Any, Any]:
    if len(cursor) > 512:
        raise _bad_cursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(payload, dict) or set(payload) != {"s", "v", "i"}:
        raise _bad_cursor()
    if payload["s"] != sort.name or not isinstance(payload["i"], str):
        raise _bad_cursor()
    value = _decode_value(payload["v"])
    doc_id: Any = payload["i"]
    if ObjectId.is_valid(doc_id):
        doc_id = ObjectId(doc_id)
    return value, doc_id


def keyset_filter(sort: SortSpec, value: Any, doc_id: Any) -> dict[str, Any]:
    """Everything after (value, id) in `sort` order. MongoDB sorts nulls lowest, so they come
    first ascending and last descending; a nullable sort field pages through them too."""
    op = "$gt" if sort.direction == 1 else "$lt"
    if sort.field == "_id":
        return {"_id": {op: doc_id}}
    same = {sort.field: value, "_id": {op: doc_id}}
    if value is None:
        if sort.direction == 1:  # nulls first: the rest of the nulls, then every value
            return {"$or": [same, {sort.field: {"$ne": None}}]}
        return same  # nulls last: only the rest of the nulls remain
    after: list[dict[str, Any]] = [{sort.field: {op: value}}, same]
    if sort.direction == -1:
        after.append({sort.field: None})
    return {"$or": after}


def sort_keys(sort: SortSpec) -> list[tuple[str, SortDirection]]:
    direction = SortDirection.ASCENDING if sort.direction == 1 else SortDirection.DESCENDING
    if sort.field == "_id":
        return [("_id", direction)]
    return [(sort.field, direction), ("_id", direction)]


def _field_value(doc: Document, field: str) -> Any:
    value: Any = doc
    for part in field.split("."):
        value = getattr(value, "id" if part == "_id" else part)
    return value


async def paginate(
    model: type[D],
    filters: dict[str, Any],
    sort: SortSpec,
    page: PageParams,
) -> tuple[list[D], str | None, int | None]:
    """Return one page of `model` matching `filters`, the next cursor and (optionally) the total."""
    query = dict(filters)
    if page.cursor:
        value, doc_id = decode_cursor(sort, page.cursor)
        after = keyset_filter(sort, value, doc_id)
        query = {"$and": [filters, after]} if filters else after
    docs = await model.find(query).sort(sort_keys(sort)).limit(page.limit + 1).to_list()
    next_cursor = None
    if len(docs) > page.limit:
        docs = docs[: page.limit]
        last = docs[-1]
        next_cursor = encode_cursor(sort, _field_value(last, sort.field), last.id)  # type: ignore[arg-type]
    total = await model.find(filters).count() if page.include_total else None
    return docs, next_cursor, total
