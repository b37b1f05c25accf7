"""How large a catalogue the embedded backend (`make run` without MONGODB_URL) serves well.

mongomock has no indexes: every query scans its collection, so a list of 20 costs time
linear in the number of items, and a facets call holds the event loop (every other request
waits) while it runs. For each size this loads the demo catalogue, copies its opportunities
up to that many items (new ids and slugs, every field as the services derived it), and
times through the app, in process: a list of 20, the same with four facets, a relevance
search, and the longest the event loop stands still during a facets call (what any other
request arriving meanwhile waits).

    python scripts/bench_embedded.py [--sizes 250,1000,5000,20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from _common import ROOT  # noqa: F401 - puts the repo on sys.path
from asgi_lifespan import LifespanManager
from bson import ObjectId
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.main import create_app
from app.models.opportunity import Opportunity

LIST = "/api/v1/opportunities?limit=20"
FACETS = "/api/v1/opportunities?limit=20&facets=type,industries,country,sdgs"
SEARCH = "/api/v1/opportunities?q=grant&limit=20"


async def grow(target: int) -> int:
    """Copy the demo opportunities until there are `target` of them."""
    collection = Opportunity.get_motor_collection()
    originals: list[dict[str, Any]] = await collection.find({}).to_list(None)
    count = len(originals)
    batch: list[dict[str, Any]] = []
    while count < target:
        source = originals[count % len(originals)]
        batch.append({**source, "_id": ObjectId(), "slug": f"{source['slug']}-{count}"})
        count += 1
        if len(batch) == 1000:
            await collection.insert_many(batch)
            batch = []
    if batch:
        await collection.insert_many(batch)
    return count


async def timed(client: AsyncClient, url: str, repeat: int) -> float:
    """Median wall milliseconds of `url` (nothing else runs meanwhile)."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        (await client.get(url)).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def stall(client: AsyncClient) -> float:
    """The longest the event loop stood still during a facets call, in milliseconds: what
    any other request arriving meanwhile waits (the embedded backend never yields inside a
    query)."""
    gaps: list[float] = []
    running = True

    async def ticker() -> None:
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    (await client.get(FACETS)).raise_for_status()
    running = False
    await task
    return max(gaps) * 1000


async def measure(size: int, repeat: int) -> dict[str, float]:
    settings = Settings(
        _env_file=None, log_level="ERROR", rate_limit_enabled=False, seed_demo_data=True
    )
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=300):
        items = await grow(size)
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://bench") as client:
            await timed(client, LIST, 1)  # warm-up
            return {
                "items": items,
                "list": await timed(client, LIST, repeat),
                "facets": await timed(client, FACETS, repeat),
                "search": await timed(client, SEARCH, repeat),
                "stall": await stall(client),
            }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="250,1000,5000,20000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'opportunities':>13} {'list of 20':>11} {'+4 facets':>10} {'q=grant':>9} "
          f"{'loop stalled by facets':>23}")  # fmt: skip
    for size in (int(s) for s in args.sizes.split(",")):
        r = await measure(size, args.repeat)
        print(
            f"{r['items']:13,.0f} {r['list']:8.0f} ms {r['facets']:7.0f} ms "
            f"{r['search']:6.0f} ms {r['stall']:20.0f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
