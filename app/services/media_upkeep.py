"""Media upkeep outside requests: linking old records to their owners (at start) and the
orphan sweep (`scripts/cleanup_orphans.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.models.base import utcnow
from app.models.media import Media
from app.services import media_owners
from app.services.access import object_id
from app.services.media import remove
from app.storage import Storage


async def backfill_owner_links(batch: int = 1000) -> int:
    """Link records written before files knew their owner (idempotent; run at start).

    Legacy records lack `attached_to` entirely; each is linked to the owner that points at
    it, or marked unattached (`null`), so this only ever scans once."""
    collection = Media.get_motor_collection()
    missing = {"attached_to": {"$exists": False}}
    linked = 0
    while True:
        ids = [doc["_id"] async for doc in collection.find(missing, {"_id": 1}).limit(batch)]
        if not ids:
            return linked
        for owner in media_owners.all_owners():
            cursor = owner.model.get_motor_collection().find(
                {owner.field: {"$in": ids}}, {owner.field: 1}
            )
            async for doc in cursor:
                ref = {"kind": owner.kind.value, "id": doc["_id"]}
                result = await collection.update_one(
                    {"_id": doc[owner.field], **missing}, {"$set": {"attached_to": ref}}
                )
                linked += result.modified_count
        await collection.update_many(
            {"_id": {"$in": ids}, **missing}, {"$set": {"attached_to": None}}
        )


# --- orphan sweep (scripts/cleanup_orphans.py) ------------------------------------------------


@dataclass
class SweepReport:
    orphan_blobs: list[str]
    missing_blobs: list[str]


async def find_orphans(storage: Storage, grace: timedelta = timedelta(hours=1)) -> SweepReport:
    """Blobs no record points to (older than `grace`, so uploads in flight are left alone)
    and records whose blob is gone."""
    known: set[str] = set()
    missing: list[str] = []
    async for media in Media.find_all():
        known.add(media.blob_name)
        if media.thumbnail_blob_name:
            known.add(media.thumbnail_blob_name)
        if not await storage.exists(media.blob_name):
            missing.append(str(media.id))
    cutoff = utcnow() - grace
    orphans = [
        name async for name, modified in storage.names() if name not in known and modified < cutoff
    ]
    return SweepReport(orphan_blobs=orphans, missing_blobs=missing)


async def sweep(storage: Storage, report: SweepReport) -> None:
    for name in report.orphan_blobs:
        await storage.delete(name)
    for media_id in report.missing_blobs:
        media = await Media.get(object_id(media_id, "MEDIA_NOT_FOUND", "file"))
        if media is not None:
            await remove(storage, media)
