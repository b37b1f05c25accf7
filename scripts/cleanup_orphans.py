"""List (and with --delete, remove) blobs that no Media record points to, and Media records
whose blob is gone. Run it from one place only (a scheduled job), not from every instance.

    MONGODB_URL=... STORAGE_BACKEND=azure AZURE_STORAGE_CONNECTION_STRING=... \\
        python scripts/cleanup_orphans.py [--delete] [--grace-minutes 60]
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from _common import real_database_settings

from app.core.logging import configure_logging
from app.db.session import connect
from app.services import media_upkeep
from app.storage import build_storage


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Find and remove orphaned media.")
    parser.add_argument("--delete", action="store_true", help="remove what is found")
    parser.add_argument(
        "--grace-minutes", type=int, default=60, help="ignore blobs younger than this"
    )
    args = parser.parse_args(argv)
    settings = real_database_settings()
    configure_logging(settings)
    database = await connect(settings)
    storage = build_storage(settings)
    try:
        await storage.start()
        report = await media_upkeep.find_orphans(storage, timedelta(minutes=args.grace_minutes))
        for name in report.orphan_blobs:
            print(f"blob without record: {name}")
        for media_id in report.missing_blobs:
            print(f"record without blob: {media_id}")
        if args.delete:
            await media_upkeep.sweep(storage, report)
            print(
                f"removed {len(report.orphan_blobs)} blobs and {len(report.missing_blobs)} records"
            )
    finally:
        await storage.close()
        database.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
