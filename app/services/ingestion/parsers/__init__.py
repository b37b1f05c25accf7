"""One parser per source format. Each reads a fetched body (a binary file) and yields
`Entry`s in our vocabulary; the mapping (`ingestion.mapping`) turns them into create
bodies validated like the API's. Parsers never load more than their format forces them to:
Grants.gov extracts and CSV stream record by record; XML is read by a hardened parser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from app.models.ingestion import SourceKind
from app.services.ingestion.parsers import csvfile, feed, grants, ical, jsonld
from app.services.ingestion.parsers.common import Entry, ParseContext, SourceRefused

__all__ = ["Entry", "ParseContext", "SourceRefused", "parse"]

PARSERS: dict[SourceKind, Any] = {
    "feed": feed.parse,
    "ical": ical.parse,
    "csv": csvfile.parse,
    "grants_gov": grants.parse,
    "jsonld": jsonld.parse,
}


def parse(kind: SourceKind, body: IO[bytes], context: ParseContext) -> Iterator[Entry]:
    body.seek(0)
    parser: Any = PARSERS[kind]
    entries: Iterator[Entry] = parser(body, context)
    return entries
