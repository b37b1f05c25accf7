"""Percolation benchmark: one item, and a day's 200 new items, against N saved searches on
the embedded backend (mongomock), N = 10,000 / 50,000 / 100,000.

Saved searches are stored through the real compiler (`queries.compile_spec`/`search_keys`)
with a realistic mix: free text (1–2 words from a 300-word vocabulary), types, industries,
countries, amount ranges, a few organisation and match-anything searches. Items are real
`Opportunity` documents. Reports: the cold load of the index (one query reading every
saved search), a warm percolation (the per-item refresh query + in-memory candidates +
predicates), candidates examined and matches. Usage: `python scripts/bench_percolation.py
[--sizes 10000,50000,100000] [--items 200]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import ROOT  # noqa: F401 - puts the repo on sys.path
from beanie import PydanticObjectId

from app.core.config import Settings
from app.db.session import connect
from app.models.opportunity import Eligibility, Opportunity
from app.models.saved_search import SavedSearch
from app.services.saved_searches import queries
from app.services.saved_searches.percolator import Percolator
from app.utils.text import tokens

RNG = random.Random(11)
WORDS = [f"w{n:04d}" for n in range(2000)]
TYPES = ["grant", "loan", "equity", "accelerator", "competition"]
INDUSTRIES = [
    "fintech",
    "agritech",
    "healthtech",
    "edtech",
    "cleantech",
    "retail",
    "logistics",
    "tourism",
]
COUNTRIES = [
    "KE", "UG", "TZ", "NG", "GH", "ZA", "RW", "ET", "SN", "EG", "MA", "CM", "CI", "ZM", "ZW",
    "MZ", "MW", "BW", "NA", "AO", "CD", "SD", "TN", "DZ", "BJ", "BF", "ML", "NE", "TG", "SL",
]  # fmt: skip
ORG = PydanticObjectId()


def random_query() -> dict[str, Any]:
    """60 % free text (+ a country half the time), 15 % type + country, 15 % industry +
    country, 7 % country only, 2 % one organisation, 1 % everything (ranges only)."""
    roll = RNG.random()
    query: dict[str, Any] = {}
    if roll < 0.60:
        query["q"] = " ".join(RNG.sample(WORDS, RNG.choice((1, 1, 2))))
        if RNG.random() < 0.5:
            query["country"] = RNG.choice(COUNTRIES)
    elif roll < 0.75:
        query.update(type=RNG.sample(TYPES, RNG.choice((1, 2))), country=RNG.choice(COUNTRIES))
    elif roll < 0.90:
        query.update(industries=RNG.sample(INDUSTRIES, 1), country=RNG.choice(COUNTRIES))
    elif roll < 0.97:
        query["country"] = RNG.choice(COUNTRIES)
    elif roll < 0.99:
        query["organisation"] = str(ORG)
    if RNG.random() < 0.2:
        query.update(currency="USD", amount_min=RNG.choice((10_000, 100_000, 1_000_000)))
    return query


def saved_search(user: int) -> dict[str, Any]:
    query = queries.parse("opportunity", random_query())
    spec = queries.compile_spec("opportunity", query)
    saved_at = datetime.now(UTC) - timedelta(days=1 + user % 300)  # saved over months
    return {
        "user_id": PydanticObjectId(f"{user:024x}"),
        "kind": "opportunity",
        "name": f"search {user}",
        "params": queries.stored_params(query),
        "spec": spec,
        "keys": queries.search_keys("opportunity", spec),
        "alert": "daily",
        "active": True,
        "created_at": saved_at,
        "updated_at": saved_at,
    }


def item(n: int) -> Opportunity:
    title = " ".join(RNG.sample(WORDS, 5))
    summary = " ".join(RNG.sample(WORDS, 15))
    return Opportunity(
        title=title,
        slug=f"item-{n}",
        summary=summary,
        organisation_id=ORG if n % 50 == 0 else PydanticObjectId(),
        organisation_name="Org",
        organisation_slug="org",
        created_by=PydanticObjectId(),
        type=RNG.choice(TYPES),
        industries=RNG.sample(INDUSTRIES, 2),
        amount_min=50_000,
        amount_max=RNG.choice((200_000, 2_000_000)),
        currency="USD",
        deadline=datetime.now(UTC) + timedelta(days=30),
        eligibility=Eligibility(countries=RNG.sample(COUNTRIES, 2)),
        search_tokens=sorted(set(tokens(f"{title} {summary}"))),
        status="published",
    )


async def run(size: int, items: int) -> dict[str, float]:
    database = await connect(
        Settings(_env_file=None, environment="test", mongodb_url=None, seed_demo_data=False)
    )
    collection = SavedSearch.get_motor_collection()
    for start in range(0, size, 5000):
        await collection.insert_many(
            [saved_search(u) for u in range(start, min(size, start + 5000))]
        )
    docs = [item(n) for n in range(items)]
    percolator = Percolator(collection.database)
    started = time.perf_counter()
    await percolator.refresh()
    cold = time.perf_counter() - started
    now = datetime.now(UTC)
    single: list[float] = []
    refresh: list[float] = []
    candidates = matched = 0
    started_all = time.perf_counter()
    for doc in docs:
        t0 = time.perf_counter()
        await percolator.refresh()  # what each percolation task does first
        refresh.append(time.perf_counter() - t0)
        fields = queries.item_fields(doc)
        candidates += len(percolator.candidates("opportunity", fields))
        matched += len(percolator.match("opportunity", fields, now))
        single.append(time.perf_counter() - t0)
    batch = time.perf_counter() - started_all
    database.close()
    return {
        "cold_load_s": cold,
        "first_item_total_s": cold + single[0],
        "item_p50_ms": statistics.median(single) * 1000,
        "item_max_ms": max(single) * 1000,
        "refresh_p50_ms": statistics.median(refresh) * 1000,
        "items_total_s": batch,
        "candidates_per_item": candidates / items,
        "matches_per_item": matched / items,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--items", type=int, default=200)
    args = parser.parse_args()
    print(
        f"{'searches':>9} {'cold load s':>11} {'1st item s':>10} {'item p50 ms':>11} {'max ms':>7} {'refresh ms':>10} {args.items:>4} items s {'cand/item':>9} {'match/item':>10}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        r = asyncio.run(run(size, args.items))
        print(
            f"{size:>9} {r['cold_load_s']:>11.2f} {r['first_item_total_s']:>10.2f} {r['item_p50_ms']:>11.2f} "
            f"{r['item_max_ms']:>7.1f} {r['refresh_p50_ms']:>10.2f} {r['items_total_s']:>12.2f} {r['candidates_per_item']:>9.0f} {r['matches_per_item']:>10.1f}"
        )


if __name__ == "__main__":
    main()
