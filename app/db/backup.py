"""Backup and restore of a whole database: every collection's documents and its indexes in
one compressed archive (a zip of Extended JSON lines), streamed both ways.

Archive layout: `manifest.json` (format, time, collections with their counts), and per
collection `<name>.jsonl` (canonical Extended JSON: ObjectIds, dates, Decimal128 and
64-bit integers come back as they were) and `<name>.indexes.json` (`index_information()`).
Restoring creates each collection's indexes before its documents, so unique indexes guard
the data as it arrives. `scripts/backup_db.py` and `scripts/restore_db.py` call these.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson import json_util
from bson.json_util import CANONICAL_JSON_OPTIONS, JSONOptions

FORMAT = 1
BATCH = 1000
READ_OPTIONS: JSONOptions = CANONICAL_JSON_OPTIONS.with_options(tz_aware=True, tzinfo=UTC)
INDEX_KEYS_DROPPED = frozenset({"key", "v", "ns"})


class RestoreRefused(Exception):
    pass


async def backup(db: Any, path: Path) -> dict[str, int]:
    """Write every collection of `db` to `path`; the count per collection."""
    counts: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(await db.list_collection_names()):
            collection = db[name]
            indexes = await collection.index_information()
            archive.writestr(f"{name}.indexes.json", json_util.dumps(indexes))
            count = 0
            with archive.open(f"{name}.jsonl", "w") as out:
                async for doc in collection.find({}).sort("_id", 1):
                    out.write(json_util.dumps(doc, json_options=CANONICAL_JSON_OPTIONS).encode())
                    out.write(b"\n")
                    count += 1
            counts[name] = count
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "collections": counts,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    return counts


def _index_options(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k not in INDEX_KEYS_DROPPED}


async def restore(db: Any, path: Path, *, drop: bool = False) -> dict[str, int]:
    """Load `path` into `db`. A collection that already holds documents is refused unless
    `drop` (then it is dropped first)."""
    counts: dict[str, int] = {}
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        if manifest.get("format") != FORMAT:
            raise RestoreRefused(f"unknown archive format {manifest.get('format')!r}")
        names: list[str] = sorted(manifest["collections"])
        existing = set(await db.list_collection_names())
        if not drop:
            busy = [n for n in names if n in existing and await db[n].count_documents({}, limit=1)]
            if busy:
                raise RestoreRefused(f"not empty: {', '.join(busy)} (use --drop to replace)")
        for name in names:
            if drop and name in existing:
                await db.drop_collection(name)
            collection = db[name]
            indexes = json_util.loads(archive.read(f"{name}.indexes.json"))
            for index_name, spec in indexes.items():
                if index_name == "_id_":
                    continue
                keys = [(field, direction) for field, direction in spec["key"]]
                await collection.create_index(keys, name=index_name, **_index_options(spec))
            counts[name] = await _load(collection, archive, f"{name}.jsonl")
    return counts


async def _load(collection: Any, archive: zipfile.ZipFile, member: str) -> int:
    count = 0
    batch: list[dict[str, Any]] = []
    with archive.open(member) as lines:
        for line in lines:
            if not line.strip():
                continue
            batch.append(json_util.loads(line, json_options=READ_OPTIONS))
            if len(batch) >= BATCH:
                await collection.insert_many(batch, ordered=True)
                count += len(batch)
                batch = []
    if batch:
        await collection.insert_many(batch, ordered=True)
        count += len(batch)
    return count
