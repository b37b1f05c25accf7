"""Create every declared index and load reference data on the MongoDB at MONGODB_URL.

MONGODB_URL=mongodb://localhost:27017/runwei python scripts/init_db.py
"""

from __future__ import annotations

import asyncio

from _common import real_database_settings

from app.core.logging import configure_logging
from app.db.session import connect
from app.seed import bootstrap


async def main() -> None:
    settings = real_database_settings()
    configure_logging(settings)
    database = await connect(settings)  # init_beanie creates the indexes
    try:
        await bootstrap.prepare(settings)
    finally:
        database.close()
    print("database initialised: indexes and reference data are in place")


if __name__ == "__main__":
    asyncio.run(main())
