"""Request-path benchmark, in process (ASGI, embedded database, demo catalogue).

Prints requests/second for the hot paths and their cost relative to the bare middleware
path (`/health/live`): authentication, lists, search, facets and geo.

    python scripts/bench_api.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _common import ROOT  # noqa: F401 - puts the repo on sys.path
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.main import create_app
from app.models.user import Role
from app.services import sessions
from app.services.users import create_user

CASES = [
    ("health (middleware only)", "/api/v1/health/live", False),
    ("users/me (auth: JWT + one denylist lookup)", "/api/v1/users/me", True),
    ("opportunities, 20 by deadline", "/api/v1/opportunities?limit=20", False),
    ("opportunities, q=grant (relevance)", "/api/v1/opportunities?q=grant&limit=20", False),
    (
        "opportunities + 4 facets",
        "/api/v1/opportunities?limit=20&facets=type,industries,country,sdgs",
        False,
    ),
    (
        "events near Nairobi, 50 km",
        "/api/v1/events?near_lat=-1.28&near_lng=36.82&radius_km=50",
        False,
    ),
    ("reference/industries", "/api/v1/reference/industries", False),
]


async def measure(client: AsyncClient, url: str, headers: dict[str, str], seconds: float) -> float:
    for _ in range(20):  # warm-up
        (await client.get(url, headers=headers)).raise_for_status()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        (await client.get(url, headers=headers)).raise_for_status()
        count += 1
    return count / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    settings = Settings(
        _env_file=None, log_level="WARNING", rate_limit_enabled=False, seed_demo_data=True
    )
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=120):
        user = await create_user(
            settings, "bench@example.org", "benchmark-password-1", "Bench", Role.entrepreneur
        )
        token = (await sessions.start(settings, user)).access_token
        auth = {"Authorization": f"Bearer {token}"}
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as client:
            baseline = None
            print(f"{'path':48} {'req/s':>9} {'cost vs health':>15}")
            for name, url, needs_auth in CASES:
                rate = await measure(client, url, auth if needs_auth else {}, args.seconds)
                baseline = baseline or rate
                print(f"{name:48} {rate:9.0f} {baseline / rate:14.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
