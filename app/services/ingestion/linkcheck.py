"""Freshness: a scheduled check of published items' links (an opportunity's application
link, or the page an item was ingested from). An item whose link is gone (404/410, or a
host that no longer resolves) is marked and listed for staff in moderation
(`/admin/moderation?moderation=link`); a link that fails for another reason (timeouts,
5xx) is marked `error` and checked again next time, never called gone. Past-deadline
opportunities need no job: they read as closed (`opportunities.effective_status`).

Each item is claimed by one conditional update on when it was last checked, so sweeps on
several workers never check one item twice in a period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from app.core.config import Settings
from app.models.base import utcnow
from app.models.catalogue import ItemStatus
from app.models.provenance import LinkCheck, LinkStatus
from app.services.catalogue import CatalogueKind
from app.services.ingestion.fetch import Fetcher
from app.services.ingestion.merge import KINDS

log = structlog.get_logger("app.ingestion")

BATCH = 50  # per kind and sweep
GONE_STATUSES = frozenset({404, 410})
GONE_REASONS = frozenset({"DNS_ERROR"})


def verdict(status: int | None, reason: str | None) -> LinkStatus:
    if status in GONE_STATUSES or reason in GONE_REASONS:
        return "gone"
    if status is not None and (status < 500):
        return "ok"  # it exists (401/403/429: it just does not let robots in)
    return "error"


def _due(kind: CatalogueKind[Any], cutoff: Any) -> dict[str, Any]:
    has_link: list[dict[str, Any]] = [{"provenance.url": {"$nin": [None, ""]}}]
    if kind.link_field:
        has_link.append({kind.link_field: {"$nin": [None, ""]}})
    return {
        "status": ItemStatus.published.value,
        "$and": [
            {"$or": has_link},
            {"$or": [{"link_check": None}, {"link_check.checked_at": {"$lte": cutoff}}]},
        ],
    }


def link_of(kind: CatalogueKind[Any], doc: dict[str, Any]) -> str | None:
    own = doc.get(kind.link_field) if kind.link_field else None
    return own or (doc.get("provenance") or {}).get("url")


async def sweep(settings: Settings, *, batch: int = BATCH) -> int:
    """Check up to `batch` items per kind; how many were checked."""
    checked = 0
    async with Fetcher(settings) as fetcher:
        for kind in KINDS.values():
            collection = kind.model.get_motor_collection()
            for _ in range(batch):
                now = utcnow()
                cutoff = now - timedelta(hours=settings.link_check_interval_hours)
                doc = await collection.find_one(_due(kind, cutoff))
                if doc is None:
                    break
                url = link_of(kind, doc)
                if url is None:  # pragma: no cover - the filter asked for one
                    break
                previous = doc.get("link_check")
                claim = LinkCheck(
                    url=url,
                    status=(previous or {}).get("status", "ok"),
                    checked_at=now,
                )
                taken = await collection.update_one(
                    {"_id": doc["_id"], "link_check": previous},
                    {"$set": {"link_check": claim.model_dump()}},
                )
                if not taken.modified_count:
                    continue  # another sweep has it
                status, reason = await fetcher.probe(url)
                result = LinkCheck(
                    url=url,
                    status=verdict(status, reason),
                    http_status=status,
                    reason=reason,
                    checked_at=now,
                )
                await collection.update_one(
                    {"_id": doc["_id"]}, {"$set": {"link_check": result.model_dump()}}
                )
                checked += 1
                if result.status == "gone":
                    log.info("item_link_gone", entity=kind.entity, item_id=str(doc["_id"]))
    return checked
