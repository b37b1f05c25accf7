"""Import benchmark, in process (ASGI, embedded database): rows per second of
`POST /api/v1/admin/imports` for a generated CSV of opportunities.

- dry run: every row validated as a create request (schema, rule function, reference
  slugs, the caller's right to the organisation), nothing written — the figure the
  import is held to (≥ 5,000 rows/s);
- confirmed: the rows written as pending-review items (upsert key, item, audit entry,
  duplicate lookups), then the same file again (every row a no-op).

    python scripts/bench_import.py [--rows 20000] [--write-rows 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import date, timedelta
from typing import Any

from _common import ROOT  # noqa: F401 - puts the repo on sys.path
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.main import create_app
from app.models.user import Role
from app.services import sessions
from app.services.users import create_user

TARGET_ROWS_PER_SECOND = 5000
HEADER = (
    "external_id,title,summary,type,amount_min,amount_max,currency,deadline,"
    "application_url,tags,industries,eligibility.countries,organisation_id,description\n"
)


WORDS = [
    "solar",
    "agri",
    "dairy",
    "textile",
    "export",
    "digital",
    "health",
    "water",
    "coffee",
    "cocoa",
    "fisheries",
    "craft",
    "tourism",
    "logistics",
    "recycling",
    "housing",
    "fintech",
    "education",
    "transport",
    "energy",
    "seed",
    "growth",
    "women",
    "youth",
    "rural",
    "coastal",
    "urban",
    "cooperative",
    "innovation",
    "resilience",
    "market",
    "skills",
]


def generate(rows: int, org_id: str) -> bytes:
    """Distinct, realistic rows: different titles, days and texts (not near-duplicates)."""
    rng = random.Random(13)
    lines = [HEADER]
    start = date(2099, 1, 1)
    for n in range(rows):
        words = rng.sample(WORDS, 4)
        title = f"{words[0].title()} {words[1]} fund for {words[2]} and {words[3]} firms {n}"
        text = " ".join(rng.choices(WORDS, k=40))
        deadline = start + timedelta(days=rng.randrange(3650))
        lines.append(
            f"bench-{n},{title},Working capital and coaching,"
            f"grant,{100000 + n},{500000 + n},USD,{deadline.isoformat()}T12:00:00Z,"
            f"https://funder.example.org/calls/{n},funding;climate,fintech,KE;UG,{org_id},"
            f'"<p>Call {n}: {text}</p>"\n'
        )
    return "".join(lines).encode()


async def post(
    client: AsyncClient, headers: dict[str, str], content: bytes, dry_run: bool
) -> tuple[dict[str, Any], float, float]:
    """The report, wall seconds and CPU seconds (client and server share this process; the
    CPU figure is what the import costs when the machine is not shared)."""
    cpu = time.process_time()
    started = time.perf_counter()
    response = await client.post(
        "/api/v1/admin/imports",
        headers=headers,
        params={"kind": "opportunity", "dry_run": str(dry_run).lower()},
        files={"file": ("bench.csv", content, "text/csv")},
    )
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return response.json(), elapsed, time.process_time() - cpu


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--write-rows", type=int, default=2000)
    args = parser.parse_args()
    settings = Settings(
        _env_file=None,
        log_level="WARNING",
        rate_limit_enabled=False,
        seed_demo_data=False,
        import_max_bytes=512 * 1024 * 1024,
        task_scheduler_enabled=False,
    )
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=120):
        admin = await create_user(
            settings, "bench@example.org", "bench-password-123", "Bench", Role.admin
        )
        headers = {
            "Authorization": f"Bearer {(await sessions.start(settings, admin)).access_token}"
        }
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client:
            org = await client.post(
                "/api/v1/organisations", headers=headers, json={"name": "Bench Fund", "type": "ngo"}
            )
            org_id = org.json()["id"]
            content = generate(args.rows, org_id)
            await post(client, headers, generate(200, org_id), True)  # warm-up
            report, elapsed, cpu = await post(client, headers, content, True)
            if report["valid"] != args.rows:
                raise SystemExit(f"unexpected report: {report}")
            dry = args.rows / elapsed
            print(
                f"dry run:   {args.rows} rows ({len(content) / 2**20:.1f} MiB) in {elapsed:.2f} s"
                f" = {dry:,.0f} rows/s validated ({args.rows / cpu:,.0f} rows per CPU second;"
                f" target ≥ {TARGET_ROWS_PER_SECOND:,})"
            )
            small = generate(args.write_rows, org_id)
            for label, key in (("confirmed", "created"), ("again", "unchanged")):
                report, elapsed, cpu = await post(client, headers, small, False)
                if report[key] != args.write_rows:
                    raise SystemExit(f"unexpected report: {report}")
                print(
                    f"{label + ':':<10} {args.write_rows} rows {key} in {elapsed:.2f} s"
                    f" = {args.write_rows / elapsed:,.0f} rows/s"
                )
    print("PASS" if dry >= TARGET_ROWS_PER_SECOND else "BELOW TARGET")


if __name__ == "__main__":
    asyncio.run(main())
