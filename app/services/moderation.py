"""The staff moderation queue: opportunities and events pending review, oldest first."""

from __future__ import annotations

from typing import Any, Literal

from app.core.pagination import PageParams, SortSpec, decode_cursor, encode_cursor, keyset_filter
from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.event import Event
from app.models.opportunity import Opportunity
from app.schemas.admin import ModerationItem

QUEUE_SORT = SortSpec("queue", "updated_at", 1)
SOURCES: dict[Literal["opportunity", "event"], type[CatalogueItem]] = {
    "opportunity": Opportunity,
    "event": Event,
}


async def queue(
    kind: Literal["opportunity", "event"] | None, page: PageParams
) -> tuple[list[ModerationItem], str | None, int | None]:
    base: dict[str, Any] = {"status": ItemStatus.pending_review.value}
    query = base
    if page.cursor:
        value, doc_id = decode_cursor(QUEUE_SORT, page.cursor)
        query = {"$and": [base, keyset_filter(QUEUE_SORT, value, doc_id)]}
    rows: list[tuple[Any, Any, str, CatalogueItem]] = []
    total = 0
    for name, model in SOURCES.items():
        if kind and kind != name:
            continue
        docs = await model.find(query).sort("+updated_at", "+_id").limit(page.limit + 1).to_list()
        rows += [(d.updated_at, d.id, name, d) for d in docs]
        if page.include_total:
            total += await model.find(base).count()
    rows.sort(key=lambda r: (r[0], str(r[1])))
    window = rows[: page.limit]
    cursor = None
    if len(rows) > page.limit:
        last = window[-1]
        cursor = encode_cursor(QUEUE_SORT, last[0], last[1])
    items = [
        ModerationItem(
            kind=name,
            id=str(doc.id),
            title=doc.title,
            organisation_name=doc.organisation_name,
            submitted_at=doc.updated_at,
        )
        for _, _, name, doc in window
    ]
    return items, cursor, total if page.include_total else None
