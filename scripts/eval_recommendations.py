"""Offline evaluation of the recommender on a synthetic but realistic population.

The world: organisations in eight countries publish opportunities over 180 days, each with a
primary industry (its words in the text), topics, SDGs, an amount, and eligibility rules
(industries, countries, stages, years in business, team size, revenue, communities) —
several per item, as publishers write them. Founders have a true business (industries,
stage, country, age, team, revenue, communities) and hidden tastes (topics, SDGs, a
preferred amount, some publishers they trust); their profiles declare each fact with
probability 0.7 (the rest is `unknown` to us), and their bios use their industry's words,
with noise. Every day some founders browse 20 open items — half of them picked with a
weight that grows with how often they were saved (√saves; `--popularity-bias linear` for
a harsher rich-get-richer), half at random — and save what they like; they dismiss some of what they skip,
saying why. Items have a latent appeal, so the popular baseline is a real competitor.

Time split: everything before day 150 is what the recommender knows (profiles, saves,
dismissals); the saves of the last 30 days, of items open on day 150, are the truth. For
each founder with at least one such save, the top 10 of each ranker are compared with it.

    python scripts/eval_recommendations.py [--users 1200] [--items 1500] [--seed 7]
                                           [--popularity-bias sqrt|linear]

Rankers: ours (`app.services.recommendations.ranking.rank`, exactly the production code,
eligible items only as the API lists them by default), most-popular (saves so far), random.
Metrics: precision@10, nDCG@10, coverage (share of the open items that appear in someone's
top 10) and intra-list diversity (mean pairwise 1 − Jaccard of items' industries, topics and
organisation within a top 10). Goal: nDCG@10 at least 1.2 × most-popular.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any, TypeVar

from _common import ROOT  # noqa: F401 - puts the repo on sys.path
from beanie import PydanticObjectId

from app.models.profile import BusinessStage, FundingNeed, Profile, RevenueBand
from app.seed.reference_data import INDUSTRIES, TAGS, TARGET_COMMUNITIES
from app.services.recommendations.behaviour import Feedback, build_interactions
from app.services.recommendations.criteria import Names, eligible
from app.services.recommendations.facts import ItemFacts, ProfileFacts, facts_of, item_text
from app.services.recommendations.index import assemble
from app.services.recommendations.ranking import Inputs, rank
from app.services.recommendations.text import LexicalProvider, TextDoc
from app.utils.text import slugify

R = TypeVar("R")
START = datetime(2026, 1, 1, tzinfo=UTC)
SPLIT_DAY, END_DAY = 150, 180
COUNTRIES = ["KE", "UG", "TZ", "RW", "NG", "GH", "ZA", "ET"]
STAGES = [s.value for s in BusinessStage]
BANDS = [b.value for b in RevenueBand]
INDUSTRY = [slugify(n) for n in INDUSTRIES]
TOPIC = [slugify(n) for n in TAGS]
COMMUNITY = [slugify(n) for n in TARGET_COMMUNITIES]
GENERIC = ["grant", "fund", "support", "programme", "business", "founders", "apply", "growth"]


def industry_words() -> dict[str, list[str]]:
    """Each industry's vocabulary: its name, and synthetic words no other industry uses."""
    return {
        slug: [*name.lower().replace("&", "").split(), *(f"{slug[:4]}{n}x" for n in range(14))]
        for slug, name in zip(INDUSTRY, INDUSTRIES, strict=True)
    }


@dataclass
class Founder:
    id: PydanticObjectId
    industries: list[str]
    stage: str
    country: str
    years: int
    team: int
    band: str
    communities: list[str]
    topics: list[str]
    sdgs: list[str]
    amount: int  # what they look for (minor units, USD)
    trusted: set[int]  # organisations they like
    activity: float
    profile: ProfileFacts = field(default_factory=ProfileFacts)


@dataclass
class World:
    raws: list[dict[str, Any]]
    facts: list[ItemFacts]
    appeal: list[float]
    founders: list[Founder]
    saves: list[tuple[PydanticObjectId, PydanticObjectId, int]] = field(default_factory=list)
    dismissals: dict[PydanticObjectId, dict[PydanticObjectId, str]] = field(default_factory=dict)


def make_items(rng: random.Random, n: int, orgs: int) -> tuple[list[dict[str, Any]], list[float]]:
    vocab = industry_words()
    org_country = [rng.choice(COUNTRIES) for _ in range(orgs)]
    org_focus = [rng.sample(INDUSTRY, 2) for _ in range(orgs)]
    raws, appeal = [], []
    for i in range(n):
        org = rng.randrange(orgs)
        primary = rng.choice(org_focus[org]) if rng.random() < 0.8 else rng.choice(INDUSTRY)
        published = START + timedelta(days=rng.uniform(0, END_DAY - 5))
        rules: dict[str, Any] = {}
        if rng.random() < 0.35:
            rules["industries"] = list({primary, rng.choice(INDUSTRY)})
        if rng.random() < 0.55:
            rules["countries"] = [org_country[org], *rng.sample(COUNTRIES, rng.choice([0, 0, 2]))]
        if rng.random() < 0.4:
            rules["stages"] = rng.sample(STAGES, rng.randint(1, 3))
        if rng.random() < 0.2:
            rules["min_years_in_business"] = rng.choice([1, 2, 3])
        if rng.random() < 0.15:
            rules["max_team_size"] = rng.choice([10, 25, 50])
        if rng.random() < 0.15:
            rules["revenue_bands"] = rng.sample(BANDS, 2)
        if rng.random() < 0.15:
            rules["target_communities"] = rng.sample(COMMUNITY, 1)
        words = rng.sample(vocab[primary], 6) + rng.sample(GENERIC, 4)
        amount = rng.choice([500_000, 2_000_000, 10_000_000, 50_000_000])
        raws.append(
            {
                "_id": PydanticObjectId(),
                "slug": f"item-{i}",
                "title": " ".join(words[:4]).title(),
                "summary": " ".join(words[4:]),
                "description": " ".join(rng.sample(vocab[primary], 5) + rng.sample(GENERIC, 3)),
                "type": rng.choice(["grant", "loan", "equity", "accelerator", "competition"]),
                "organisation_id": PydanticObjectId(f"{org:024x}"),
                "organisation_name": f"Org {org}",
                "organisation_slug": f"org-{org}",
                "published_at": published,
                "deadline": None if rng.random() < 0.2 else published + timedelta(days=rng.uniform(20, 120)),
                "industries": [primary],
                "tags": rng.sample(TOPIC, rng.randint(1, 3)),
                "sdgs": [f"sdg-{(INDUSTRY.index(primary) % 17) + 1}", f"sdg-{rng.randint(1, 17)}"],
                "target_communities": [],
                "currency": "USD",
                "amount_min": amount // 5,
                "amount_max": amount,
                "eligibility": rules,
                "rolling": False,
                "version": 1,
            }
        )  # fmt: skip
        raws[-1]["rolling"] = raws[-1]["deadline"] is None
        appeal.append(rng.lognormvariate(0, 0.6))
    return raws, appeal


def make_founders(rng: random.Random, n: int, orgs: int) -> list[Founder]:
    vocab = industry_words()
    founders = []
    for _ in range(n):
        industries = rng.sample(INDUSTRY, rng.choice([1, 1, 2]))
        f = Founder(
            id=PydanticObjectId(),
            industries=industries,
            stage=rng.choice(STAGES),
            country=rng.choice(COUNTRIES),
            years=rng.randint(0, 12),
            team=rng.choice([1, 3, 8, 20, 60]),
            band=rng.choice(BANDS),
            communities=rng.sample(COMMUNITY, rng.choice([0, 1, 1, 2])),
            topics=rng.sample(TOPIC, 3),
            sdgs=[f"sdg-{(INDUSTRY.index(industries[0]) % 17) + 1}"],
            amount=rng.choice([500_000, 2_000_000, 10_000_000, 50_000_000]),
            trusted=set(rng.sample(range(orgs), 3)),
            activity=rng.uniform(0.05, 0.3),
        )

        def declare() -> bool:  # each fact is on the profile with probability 0.7
            return rng.random() < 0.7

        bio = rng.sample(vocab[industries[0]], 4) + rng.sample(GENERIC, 2)
        profile = Profile.model_construct(
            user_id=f.id,
            display_name="Founder",
            business_name="Business",
            bio=" ".join(bio) if declare() else "",
            industries=industries if declare() else [],
            stage=BusinessStage(f.stage) if declare() else None,
            country=f.country if declare() else None,
            founded_year=2026 - f.years if declare() else None,
            team_size=f.team if declare() else None,
            revenue_band=RevenueBand(f.band) if declare() else None,
            target_communities=f.communities if declare() else [],
            sdgs=f.sdgs if declare() else [],
            interests=f.topics[:2] if declare() else [],
            funding=FundingNeed(amount_min=f.amount // 4, amount_max=f.amount, currency="USD")
            if declare()
            else None,
            region=None,
        )
        f.profile = ProfileFacts.of(profile, START + timedelta(days=SPLIT_DAY))
        founders.append(f)
    return founders


def truth(f: Founder) -> ProfileFacts:
    """The founder as they really are (for eligibility in the simulation)."""
    return ProfileFacts(
        industries=frozenset(f.industries), stage=f.stage, country=f.country,
        communities=frozenset(f.communities), years_in_business=f.years, team_size=f.team,
        revenue_band=f.band, exists=True,
    )  # fmt: skip


def liking(f: Founder, item: ItemFacts, appeal: float) -> float:
    score = 2.2 * bool(item.industries & set(f.industries)) + 0.7 * len(item.tags & set(f.topics))
    score += 0.4 * len(item.sdgs & set(f.sdgs)) + 0.8 * (
        int(f"{item.organisation_id}", 16) in f.trusted
    )
    score += 0.6 * (item.amount_max is not None and item.amount_max >= f.amount)
    return score + 0.9 * math.log(appeal)


def simulate(rng: random.Random, world: World, bias: str = "sqrt") -> None:
    real = {f.id: truth(f) for f in world.founders}
    saves_so_far: dict[int, int] = defaultdict(int)
    for day in range(END_DAY):
        now = START + timedelta(days=day)
        open_rows = [
            r for r, i in enumerate(world.facts)
            if i.published_at and i.published_at <= now and (i.closes_at is None or i.closes_at > now)
        ]  # fmt: skip
        if not open_rows:
            continue
        weights = [
            math.sqrt(1 + saves_so_far[r]) if bias == "sqrt" else 1 + saves_so_far[r]
            for r in open_rows
        ]
        for f in world.founders:
            if rng.random() > f.activity:
                continue
            shown = set(rng.choices(open_rows, weights=weights, k=10))
            shown |= set(rng.sample(open_rows, min(10, len(open_rows))))
            for r in shown:
                item = world.facts[r]
                fit = eligible(real[f.id], item)
                p = 1 / (1 + math.exp(-(liking(f, item, world.appeal[r]) - 3.6)))
                if rng.random() < p * (1.0 if fit else 0.08):
                    world.saves.append((f.id, item.id, day))
                    saves_so_far[r] += 1
                elif rng.random() < 0.03:
                    reason = "not_relevant" if fit else "not_eligible"
                    if day < SPLIT_DAY:
                        world.dismissals.setdefault(f.id, {})[item.id] = reason


def ndcg(ranked: Sequence[PydanticObjectId], relevant: set[PydanticObjectId], k: int = 10) -> float:
    gain = sum(1 / math.log2(n + 2) for n, i in enumerate(ranked[:k]) if i in relevant)
    ideal = sum(1 / math.log2(n + 2) for n in range(min(k, len(relevant))))
    return gain / ideal if ideal else 0.0


def diversity(
    ranked: Sequence[PydanticObjectId], by_id: dict[PydanticObjectId, ItemFacts]
) -> float:
    def topics(i: ItemFacts) -> set[str]:
        return {*i.industries, *i.tags, f"org:{i.organisation_id}"}

    pairs = list(combinations([topics(by_id[i]) for i in ranked[:10]], 2))
    return sum(1 - len(a & b) / len(a | b) for a, b in pairs) / len(pairs) if pairs else 0.0


async def evaluate(world: World, rng: random.Random) -> dict[str, dict[str, float]]:
    split = START + timedelta(days=SPLIT_DAY)

    async def run(fn: Callable[[], R]) -> R:
        return fn()

    visible = [
        (raw, f) for raw, f in zip(world.raws, world.facts, strict=True)
        if f.published_at and f.published_at <= split and (f.closes_at is None or f.closes_at > split)
    ]  # fmt: skip
    provider = LexicalProvider(run)
    docs = [TextDoc("opportunity", f.id, item_text(raw)) for raw, f in visible]
    space, matrix = await provider.fit(docs)
    snap = assemble("opportunity", [f for _, f in visible], matrix, space, Names({}), (1, split))
    open_ids = {f.id for _, f in visible}
    train = [(u, i) for u, i, day in world.saves if day < SPLIT_DAY]
    interactions = build_interactions(train)
    mine: dict[PydanticObjectId, set[PydanticObjectId]] = defaultdict(set)
    for u, i in train:
        mine[u].add(i)
    test: dict[PydanticObjectId, set[PydanticObjectId]] = defaultdict(set)
    for u, i, day in world.saves:
        if day >= SPLIT_DAY and i in open_ids and i not in mine[u]:
            test[u].add(i)
    popularity: dict[PydanticObjectId, int] = defaultdict(int)
    for _, i in train:
        popularity[i] += 1
    popular = sorted(open_ids, key=lambda i: (-popularity[i], str(i)))
    by_id = {f.id: f for _, f in visible}
    results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    shown: dict[str, set[PydanticObjectId]] = defaultdict(set)
    for f in world.founders:
        relevant = test.get(f.id)
        if not relevant:
            continue
        skip = mine[f.id] | set(world.dismissals.get(f.id, {}))
        feedback = Feedback(frozenset(mine[f.id]), world.dismissals.get(f.id, {}))
        query = await provider.encode_query(space, TextDoc("profile", f.id, f.profile.text))
        entries = rank(Inputs(snap, interactions, f.profile, query, feedback, f.id, split))
        lists = {
            "ours": [e.item_id for e in entries if e.eligible][:10],
            "most popular": [i for i in popular if i not in skip][:10],
            "random": rng.sample([i for i in open_ids if i not in skip], 10),
        }
        for name, ranked in lists.items():
            hits = sum(1 for i in ranked if i in relevant)
            results[name]["precision@10"].append(hits / 10)
            results[name]["nDCG@10"].append(ndcg(ranked, relevant))
            results[name]["diversity"].append(diversity(ranked, by_id))
            shown[name] |= set(ranked)
    summary = {}
    for name, metrics in results.items():
        summary[name] = {m: sum(v) / len(v) for m, v in metrics.items()}
        summary[name]["coverage"] = len(shown[name]) / len(open_ids)
        summary[name]["users"] = len(metrics["nDCG@10"])
    return summary


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1200)
    parser.add_argument("--items", type=int, default=1500)
    parser.add_argument("--organisations", type=int, default=80)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--popularity-bias",
        choices=["sqrt", "linear"],
        default="sqrt",
        help="exposure grows with √saves (default) or with saves (a harsher rich-get-richer)",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    raws, appeal = make_items(rng, args.items, args.organisations)
    world = World(
        raws,
        [facts_of("opportunity", r) for r in raws],
        appeal,
        make_founders(rng, args.users, args.organisations),
    )
    simulate(rng, world, args.popularity_bias)
    summary = await evaluate(world, rng)
    users = int(summary["ours"]["users"])
    print(
        f"{len(world.saves)} saves, {sum(map(len, world.dismissals.values()))} dismissals; {users} founders evaluated"
    )
    print(f"{'ranker':14} {'precision@10':>13} {'nDCG@10':>9} {'coverage':>9} {'diversity':>10}")
    for name in ("ours", "most popular", "random"):
        m = summary[name]
        print(
            f"{name:14} {m['precision@10']:13.4f} {m['nDCG@10']:9.4f} {m['coverage']:9.3f} {m['diversity']:10.3f}"
        )
    ratio = summary["ours"]["nDCG@10"] / max(summary["most popular"]["nDCG@10"], 1e-9)
    print(
        f"nDCG@10 ours / most popular = {ratio:.2f} (goal ≥ 1.20)   [{time.perf_counter() - started:.0f} s]"
    )


if __name__ == "__main__":
    asyncio.run(main())
