"""Recommendation benchmark, in process (ASGI, embedded database): one founder against
1,000 / 10,000 / 50,000 published opportunities.

For each size it reports the index build (once per process and kind), then app-side times
of `GET /me/recommendations/opportunities` — computed (the cached ranking removed before
each request, so every request ranks all items) and cached — and of the ranking itself
(the thread-pool job), with p50/p99 and how they grow with the catalogue; then the p50/p99
of `/health/live` while 20 rankings are computed at once and the longest single step the
event loop ran meanwhile (is it free?), and the memory growth from building the index.

    python scripts/bench_recommendations.py [--sizes 1000,10000,50000] [--requests 30]

The embedded backend keeps no real indexes (every query scans), so the items are bulk-
inserted with the collection's indexes dropped; requests themselves never scan the items.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil
from _common import ROOT  # noqa: F401 - puts the repo on sys.path
from asgi_lifespan import LifespanManager
from beanie import PydanticObjectId
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.main import create_app
from app.models.opportunity import Opportunity
from app.models.profile import Profile
from app.models.recommendation import RecommendationCache
from app.models.user import Role
from app.seed.reference_data import INDUSTRIES, TAGS
from app.services import sessions
from app.services.catalogue import with_derived
from app.services.opportunities import KIND
from app.services.recommendations import index, ranking, service
from app.services.recommendations.facts import ProfileFacts
from app.services.recommendations.text import TextDoc
from app.services.users import create_user
from app.utils.text import slugify

URL = "/api/v1/me/recommendations/opportunities?limit=20"
WORDS = [f"word{n}" for n in range(3000)]


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def opportunity(n: int, rng: random.Random, now: datetime) -> dict[str, Any]:
    industry = slugify(rng.choice(INDUSTRIES))
    rules: dict[str, Any] = {}
    if rng.random() < 0.4:
        rules["countries"] = rng.sample(["KE", "UG", "TZ", "NG", "GH"], 2)
    if rng.random() < 0.3:
        rules["stages"] = rng.sample(["idea", "pre_revenue", "early_revenue", "growth"], 2)
    if rng.random() < 0.3:
        rules["industries"] = [industry]
    item = Opportunity(
        title=" ".join(rng.sample(WORDS, 5)),
        slug=f"bench-{n}",
        summary=" ".join(rng.sample(WORDS, 15)),
        description=" ".join(rng.sample(WORDS, 80)),
        organisation_id=PydanticObjectId(f"{n % 400:024x}"),
        organisation_name=f"Org {n % 400}",
        organisation_slug=f"org-{n % 400}",
        status="published",
        published_at=now - timedelta(days=rng.uniform(0, 90)),
        created_by=PydanticObjectId(),
        type="grant",
        industries=[industry],
        tags=[slugify(t) for t in rng.sample(TAGS, 2)],
        sdgs=[f"sdg-{rng.randint(1, 17)}"],
        deadline=now + timedelta(days=rng.uniform(5, 200)),
        amount_min=100_000,
        amount_max=rng.choice([500_000, 5_000_000]),
        currency="USD",
        eligibility=rules,
        saves=rng.randint(0, 40),
    )
    return with_derived(KIND, item).model_dump(by_alias=True, exclude={"id"})


async def size_run(size: int, requests: int) -> dict[str, Any]:
    settings = Settings(
        _env_file=None,
        environment="test",  # no warm-up at start: the index is built below, once seeded
        log_level="WARNING",
        rate_limit_enabled=False,
        seed_demo_data=False,
        recommendation_queue=1000,
    )
    app = create_app(settings)
    process = psutil.Process()
    out: dict[str, Any] = {"size": size}
    async with LifespanManager(app, startup_timeout=120):
        rng = random.Random(size)
        now = datetime.now(UTC)
        collection = Opportunity.get_motor_collection()
        await collection.drop_indexes()
        for start in range(0, size, 5000):
            await collection.insert_many(
                [opportunity(n, rng, now) for n in range(start, min(size, start + 5000))]
            )
        users: list[tuple[PydanticObjectId, str]] = []
        for n in range(21):
            user = await create_user(
                settings, f"b{n}@example.org", "bench-password-1", "B", Role.entrepreneur
            )
            await Profile(
                user_id=user.id, display_name="B", business_name="B", country="KE",
                stage="idea", industries=[slugify(INDUSTRIES[n % 5])],
                bio=" ".join(rng.sample(WORDS, 30)), interests=["funding"],
            ).insert()  # fmt: skip
            assert user.id is not None  # noqa: S101 - inserted
            users.append((user.id, (await sessions.start(settings, user)).access_token))
        engine = app.state.recommender
        rss = process.memory_info().rss
        clock = time.perf_counter()
        await engine.indexes["opportunity"].current(await index.generation("opportunity"))
        out["build_s"] = time.perf_counter() - clock
        out["rss_mib"] = (process.memory_info().rss - rss) / 2**20
        gc.collect()  # as the warm-up does outside tests (Recommender.warm_up)
        gc.freeze()
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://bench") as client:
            user_id, token = users[0]
            auth = {"Authorization": f"Bearer {token}"}

            async def timed(clear: bool) -> float:
                if clear:
                    await RecommendationCache.get_motor_collection().delete_many({})
                started = time.perf_counter()
                (await client.get(URL, headers=auth)).raise_for_status()
                return (time.perf_counter() - started) * 1000

            await timed(True)
            out["computed"] = quantiles([await timed(True) for _ in range(requests)])
            out["cached"] = quantiles([await timed(False) for _ in range(requests)])
            found = await service.ranking_for(engine, user_id, "opportunity")
            profile = ProfileFacts.of(await Profile.find_one({"user_id": user_id}), now)
            query = await engine.provider.encode_query(
                found.snapshot.space, TextDoc("profile", user_id, profile.text)
            )
            interactions = await engine.interactions["opportunity"].current()
            inputs = ranking.Inputs(
                found.snapshot, interactions, profile, query, found.feedback, user_id, now
            )
            scoring = []
            for _ in range(requests):
                started = time.perf_counter()
                ranking.rank(inputs)
                scoring.append((time.perf_counter() - started) * 1000)
            out["scoring"] = quantiles(scoring)
            out["health"], out["stall"] = await health_under_load(client, users[1:])
    return out


async def health_under_load(
    client: AsyncClient, users: list[tuple[Any, str]]
) -> tuple[tuple[float, float], float]:
    """/health/live latencies while 20 users' rankings are computed at once, and the longest
    single step the event loop ran meanwhile (one callback: how long it was held at a time;
    a request's step includes the embedded database's queries, which run in the loop)."""
    await RecommendationCache.get_motor_collection().delete_many({})
    done = asyncio.Event()
    latencies: list[float] = []
    steps: list[float] = []
    run = asyncio.events.Handle._run

    def timed_run(handle: asyncio.events.Handle) -> None:
        started = time.perf_counter()
        run(handle)
        steps.append((time.perf_counter() - started) * 1000)

    async def probe() -> None:
        while not done.is_set():
            started = time.perf_counter()
            (await client.get("/api/v1/health/live")).raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.002)

    async def one(token: str) -> None:
        response = await client.get(URL, headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()

    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign,assignment]
    try:
        prober = asyncio.create_task(probe())
        await asyncio.gather(*(one(token) for _, token in users))
        done.set()
        await prober
    finally:
        asyncio.events.Handle._run = run  # type: ignore[method-assign]
    return quantiles(latencies), max(steps)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    rows = [await size_run(int(s), args.requests) for s in args.sizes.split(",")]
    print(f"{'items':>7} {'build s':>8} {'RSS MiB':>8} {'computed p50/p99 ms':>20} "
          f"{'cached p50/p99':>15} {'ranking p50/p99':>16} {'health p50/p99 (20 busy)':>25} "
          f"{'longest loop step':>18}")  # fmt: skip
    for r in rows:
        print(
            f"{r['size']:7} {r['build_s']:8.1f} {r['rss_mib']:8.0f} "
            f"{r['computed'][0]:10.1f} /{r['computed'][1]:7.1f} "
            f"{r['cached'][0]:7.1f} /{r['cached'][1]:6.1f} "
            f"{r['scoring'][0]:8.1f} /{r['scoring'][1]:6.1f} "
            f"{r['health'][0]:14.1f} /{r['health'][1]:8.1f} {r['stall']:15.1f} ms"
        )
    for a, b in itertools.pairwise(rows):
        items = b["size"] / a["size"]
        grew = b["computed"][0] / a["computed"][0]
        print(f"{a['size']} → {b['size']} items (×{items:.0f}): computed p50 ×{grew:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
