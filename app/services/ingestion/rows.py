"""Rows of CSV and JSON Lines files (staff imports, CSV sources): read one at a time from a
binary stream, never the whole file. Columns are create-body field names; nested fields
are dotted (`venue.city`, `eligibility.countries`); list fields are separated by `;` or
`,`; an `external_id` column (optional) is the row's upsert key."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from typing import IO, Any

from app.services.catalogue.revisions import plain
from app.utils import strict_json

LIST_FIELDS = frozenset(
    {
        "tags", "industries", "sdgs", "target_communities", "eligibility.industries",
        "eligibility.stages", "eligibility.countries", "eligibility.regions",
        "eligibility.target_communities",
    }
)  # fmt: skip
MAX_LINE_BYTES = 1024 * 1024
csv.field_size_limit(MAX_LINE_BYTES)

Row = tuple[int, dict[str, Any], str | None]  # line number, row, problem with the whole row


def row_key(row: dict[str, Any]) -> str:
    """A row without an external id is keyed by its content: the same row imported again is
    the same entry (a no-op), a changed row a new one."""
    canonical = json.dumps(plain(row), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def content_hash(fields: dict[str, Any]) -> str:
    return row_key(fields).removeprefix("sha256:")


Column = tuple[tuple[str, ...], str, bool]  # parents, leaf, is a list


MAX_DEPTH = 3  # `eligibility.countries` is two; nothing we take is deeper


def _plan(header: list[str]) -> list[Column | None]:
    """Each column's place in a row, worked out once per file. ValueError for a header no
    row could be read by: a column twice, a column that is also another's parent (`venue`
    and `venue.city`), an empty or too deep path."""
    plan: list[Column | None] = []
    names: set[str] = set()
    parents_seen: set[str] = set()
    for column in header:
        name = column.strip().lstrip("\ufeff")
        if not name:
            plan.append(None)
            continue
        path = name.split(".")
        if len(path) > MAX_DEPTH or not all(path):
            raise ValueError(f"column {name[:100]!r}: not a field name")
        prefixes = {".".join(path[:n]) for n in range(1, len(path))}
        if name in names or name in parents_seen or prefixes & names:
            raise ValueError(f"column {name[:100]!r} twice (or inside another column)")
        names.add(name)
        parents_seen |= prefixes
        *parents, leaf = path
        plan.append((tuple(parents), leaf, name in LIST_FIELDS))
    return plan


def _nest(plan: list[Column | None], cells: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column, raw in zip(plan, cells, strict=False):
        if column is None:
            continue
        value = raw.strip()
        if not value:
            continue
        parents, leaf, is_list = column
        parsed: Any = value
        if is_list:
            parsed = [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
        target = row
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = parsed
    return row


def read_csv(body: IO[bytes]) -> Iterator[Row]:
    text = io.TextIOWrapper(body, encoding="utf-8-sig", newline="", errors="strict")
    try:
        reader = csv.reader(text)
        plan: list[Column | None] | None = None
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                yield reader.line_num, {}, f"unreadable row: {exc}"
                if isinstance(exc, UnicodeDecodeError) or plan is None:
                    return
                continue
            if plan is None:
                try:
                    plan = _plan(cells)
                except ValueError as exc:
                    yield reader.line_num, {}, f"unreadable header: {exc}"
                    return
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(plan):
                yield reader.line_num, {}, "more cells than columns"
                continue
            yield reader.line_num, _nest(plan, cells), None
    finally:
        text.detach()


def read_jsonl(body: IO[bytes]) -> Iterator[Row]:
    decoder = codecs.getincrementaldecoder("utf-8")()
    for number, raw in enumerate(body, start=1):
        if len(raw) > MAX_LINE_BYTES:
            yield number, {}, "line longer than 1 MiB"
            continue
        try:
            line = decoder.decode(raw)
        except UnicodeDecodeError:
            decoder.reset()
            yield number, {}, "not UTF-8"
            continue
        if not line.strip():
            continue
        try:
            value = strict_json.loads(line)
        except ValueError as exc:
            yield number, {}, f"not JSON: {exc}"
            continue
        if not isinstance(value, dict):
            yield number, {}, "each line must be a JSON object"
            continue
        yield number, value, None
