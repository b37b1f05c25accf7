"""Load the demo catalogue into the MongoDB at MONGODB_URL (skipped if it already has data).

    MONGODB_URL=mongodb://localhost:27017/runwei python scripts/seed_demo.py

The embedded backend loads the same catalogue at start (SEED_DEMO_DATA=true).
"""

from __future__ import annotations

import asyncio

from _common import real_database_settings

from app.core.logging import configure_logging
from app.db.session import connect
from app.seed.demo import load_demo
from app.seed.reference_data import load_reference_data


async def main() -> None:
    settings = real_database_settings()
    configure_logging(settings)
    database = await connect(settings)
    try:
        await load_reference_data()
        counts = await load_demo(settings)
    finally:
        database.close()
    print("demo catalogue:", ", ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    asyncio.run(main())
