"""Moderation: the staff queue of every kind — items pending review and pending revisions,
oldest first. Staff decide with the items' own routes (`catalogue.workflow`,
`catalogue.review`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.pagination import (
    SortSpec,
    decode_cursor,
    encode_cursor,
    keyset_filter,
    sort_keys,
)
from app.models.catalogue import CatalogueItem, ItemStatus
from app.schemas.admin import ModerationKind, ModerationQuery, ModerationStage
from app.services import events, opportunities
from app.services.catalogue import CatalogueKind

KINDS: dict[ModerationKind, CatalogueKind[Any]] = {
    "opportunity": opportunities.KIND,
    "event": events.KIND,
}
# Both queues page with one cursor (same sort name): when it was submitted, then the id.
REVIEW_SORT = SortSpec("queue", "updated_at", 1)
REVISION_SORT = SortSpec("queue", "pending_revision.created_at", 1)
LINK_SORT = SortSpec("queue", "link_check.checked_at", 1)
QUEUES: dict[ModerationStage, tuple[dict[str, Any], SortSpec]] = {
    "review": ({"status": ItemStatus.pending_review.value}, REVIEW_SORT),
    "revision": (
        {
            "pending_revision.created_at": {"$exists": True},
            "status": {"$ne": ItemStatus.archived.value},  # restore it to decide
        },
        REVISION_SORT,
    ),
    # Published items whose link the freshness check found gone (services/ingestion/linkcheck)
    "link": (
        {"link_check.status": "gone", "status": ItemStatus.published.value},
        LINK_SORT,
    ),
}


@dataclass
class QueueEntry:
    kind: ModerationKind
    stage: ModerationStage
    item: CatalogueItem
    submitted_at: datetime


async def queue(query: ModerationQuery) -> tuple[list[QueueEntry], str | None, int | None]:
    kind, stage, page = query.kind, query.moderation, query.page
    cursor = decode_cursor(REVIEW_SORT, page.cursor) if page.cursor else None
    rows: list[QueueEntry] = []
    total = 0
    for name, source in KINDS.items():
        model = source.model
        if kind and kind != name:
            continue
        for stage_name, (base, sort) in QUEUES.items():
            if stage and stage != stage_name:
                continue
            found = base if cursor is None else {"$and": [base, keyset_filter(sort, *cursor)]}
            docs = await model.find(found).sort(sort_keys(sort)).limit(page.limit + 1).to_list()
            rows += [QueueEntry(name, stage_name, d, _submitted(stage_name, d)) for d in docs]
            if page.include_total:
                total += await model.find(base).count()
    rows.sort(key=lambda r: (r.submitted_at, str(r.item.id)))
    window = rows[: page.limit]
    next_cursor = None
    if len(rows) > page.limit:
        last = window[-1]
        next_cursor = encode_cursor(REVIEW_SORT, last.submitted_at, str(last.item.id))
    return window, next_cursor, total if page.include_total else None


def _submitted(stage: ModerationStage, item: CatalogueItem) -> datetime:
    if stage == "revision" and item.pending_revision is not None:
        return item.pending_revision.created_at
    if stage == "link" and item.link_check is not None:
        return item.link_check.checked_at
    return item.updated_at
