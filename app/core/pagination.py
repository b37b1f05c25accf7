"""Keyset pagination: opaque cursors, allowlisted sorts, `_id` as the tie-breaker."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from beanie import Document, SortDirection
from bson import ObjectId
from pydantic import BaseModel, Field

from app.core.exceptions import ValidationFailed
from app.utils import strict_json

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


CursorKind = Literal["datetime", "str", "int"]
MAX_CURSOR_LENGTH = 2048
_CURSOR_CHARS = re.compile(r"[A-Za-z0-9_-]+={0,2}")
MAX_INT_VALUE = 10**9  # int sort keys (relevance scores) are small and never negative


@dataclass(frozen=True, slots=True)
class SortSpec:
    """A sort the API offers: its public name, the stored field, its direction and the type
    of its values (a cursor carrying any other type is refused)."""

    name: str
    field: str
    direction: int  # 1 ascending, -1 descending
    kind: CursorKind = "datetime"
    nullable: bool = False


def _bad_cursor(reason: str = "malformed cursor") -> ValidationFailed:
    return ValidationFailed(
        "The cursor is malformed or belongs to another sort.",
        code="INVALID_CURSOR",
        details=[{"loc": ["query", "cursor"], "msg": reason, "type": "value_error"}],
    )


def _encode_value(sort: SortSpec, value: Any) -> Any:
    if value is None:
        return None
    if sort.kind == "datetime":
        if not isinstance(value, datetime):
            raise TypeError(f"sort {sort.name!r} holds datetimes, got {type(value)!r}")
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if sort.kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"sort {sort.name!r} holds integers, got {type(value)!r}")
        return value
    if not isinstance(value, str):
        raise TypeError(f"sort {sort.name!r} holds strings, got {type(value)!r}")
    return value


def _decode_value(sort: SortSpec, raw: Any) -> Any:
    """The sort value back from JSON: exactly the sort's type (or null where it may be)."""
    if raw is None:
        if sort.nullable:
            return None
        raise _bad_cursor("null value for a sort that has none")
    if sort.kind == "datetime":
        if not isinstance(raw, str) or len(raw) > 40:
            raise _bad_cursor("expected a date-time")
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise _bad_cursor("expected a date-time") from None
        if parsed.tzinfo is None:
            raise _bad_cursor("expected a date-time with a time zone")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # `0001-01-01T00:00+14:00` is before year 1 in UTC
            raise _bad_cursor("date-time out of range") from None
    if sort.kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_INT_VALUE:
            raise _bad_cursor("expected a small non-negative integer")
        return raw
    if not isinstance(raw, str):
        raise _bad_cursor("expected a string")
    return raw


def encode_cursor(sort: SortSpec, value: Any, doc_id: ObjectId | str) -> str:
    """base64url (unpadded) of `{"s": sort name, "v": sort value, "i": id}`."""
    payload = {"s": sort.name, "v": _encode_value(sort, value), "i": str(doc_id)}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: SortSpec, cursor: str) -> tuple[Any, ObjectId]:
    """The (sort value, id) a cursor carries. Anything but a cursor `encode_cursor` made for
    this sort is a 422 INVALID_CURSOR, decided in time linear in its (bounded) length."""
    if len(cursor) > MAX_CURSOR_LENGTH or not _CURSOR_CHARS.fullmatch(cursor):
        raise _bad_cursor()
    cursor = cursor.rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = strict_json.loads(raw, max_depth=2)
    except (binascii.Error, ValueError):
        raise _bad_cursor() from None
    if not isinstance(payload, dict) or set(payload) != {"s", "v", "i"}:
        raise _bad_cursor()
    if payload["s"] != sort.name:
        raise _bad_cursor("the cursor belongs to another sort")
    doc_id = payload["i"]
    if not isinstance(doc_id, str) or not ObjectId.is_valid(doc_id):
        raise _bad_cursor("expected an id")
    return _decode_value(sort, payload["v"]), ObjectId(doc_id)


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
        next_cursor = encode_cursor(sort, _field_value(last, sort.field), str(last.id))
    total = await model.find(filters).count() if page.include_total else None
    return docs, next_cursor, total
