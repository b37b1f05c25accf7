"""RSS 2.0 and Atom feeds (feedparser), after the hardened XML check."""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

import feedparser

from app.services.ingestion.parsers.common import Entry, ParseContext, check_xml


def _when(parsed: Any) -> datetime | None:
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC)


def parse(body: IO[bytes], context: ParseContext) -> Iterator[Entry]:
    check_xml(body)
    document = feedparser.parse(body.read(), sanitize_html=False, resolve_relative_uris=False)
    for item in document.entries:
        link = item.get("link")
        title = item.get("title") or ""
        key = item.get("id") or link or hashlib.sha256(title.encode()).hexdigest()[:32]
        content = item.get("content") or []
        description = content[0].get("value") if content else item.get("summary", "")
        published = _when(dict.get(item, "published_parsed") or dict.get(item, "updated_parsed"))
        fields: dict[str, Any] = {"title": title, "description": description or ""}
        if published is not None:
            fields["published"] = published
        yield Entry(
            external_id=str(key),
            url=link,
            fields=fields,
            categories=[t.get("term", "") for t in item.get("tags", []) if t.get("term")],
        )
