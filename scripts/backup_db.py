"""Back up the MongoDB at MONGODB_URL: every collection and its indexes, one compressed
archive (see app/db/backup.py).

MONGODB_URL=mongodb://localhost:27017/runwei python scripts/backup_db.py [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path

from _common import real_database_settings

from app.db.backup import backup
from app.db.session import make_client


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    parser.add_argument("--out", type=Path, default=Path(f"runwei-{stamp}.zip"))
    args = parser.parse_args()
    settings = real_database_settings()
    client, _ = make_client(settings)
    try:
        db = client.get_default_database(settings.mongodb_db)
        counts = await backup(db, args.out)
    finally:
        client.close()
    total = sum(counts.values())
    print(f"backed up {len(counts)} collections, {total} documents, to {args.out}")


if __name__ == "__main__":
    asyncio.run(main())
