"""CSV at a URL: the same columns as a staff import (`ingestion.rows`), row by row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from app.services.ingestion import rows
from app.services.ingestion.parsers.common import Entry, ParseContext


def parse(body: IO[bytes], context: ParseContext) -> Iterator[Entry]:
    for line, row, problem in rows.read_csv(body):
        external_id = str(row.pop("external_id", "") or "") or rows.row_key(row)
        if problem:
            yield Entry(external_id=external_id or f"line {line}", problem=problem)
            continue
        url = row.get("application_url") or row.get("url")
        yield Entry(external_id=external_id, url=str(url) if url else None, fields=row)
