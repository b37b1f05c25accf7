"""Restore an archive of scripts/backup_db.py into the MongoDB at MONGODB_URL: indexes
first, then documents. Collections that already hold documents are refused unless --drop.

MONGODB_URL=mongodb://localhost:27017/runwei python scripts/restore_db.py FILE [--drop]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from _common import real_database_settings

from app.db.backup import RestoreRefused, restore
from app.db.session import make_client


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("archive", type=Path)
    parser.add_argument("--drop", action="store_true", help="replace collections that exist")
    args = parser.parse_args()
    settings = real_database_settings()
    client, _ = make_client(settings)
    try:
        db = client.get_default_database(settings.mongodb_db)
        counts = await restore(db, args.archive, drop=args.drop)
    except RestoreRefused as exc:
        raise SystemExit(f"refused: {exc}") from None
    finally:
        client.close()
    print(f"restored {len(counts)} collections, {sum(counts.values())} documents")


if __name__ == "__main__":
    asyncio.run(main())
