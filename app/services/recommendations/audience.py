"""Who an opportunity's eligibility rules reach, for the organisation that publishes it and
staff: how many founder profiles meet each criterion and all of them — counts only, k-anonymous.

Every profile counts (whatever its visibility: the rules apply to all founders), judged by
the same `criteria` code recommendations use. No count below K_ANONYMITY is shown; because
each row's cells add up to the number of profiles, more cells are hidden until the hidden
ones add up to 0 or at least K_ANONYMITY; and every count shown (the total too) is rounded
down to a multiple of K_ANONYMITY. Exact counts could be worked out otherwise: across rows
(the overall row's mismatches are one criterion's when no other rule excludes anyone, and
the row's total then gives that criterion's hidden cells), and across calls (a draft's rules
edited to take in one more country: the difference is the founders there). Rounded, any
count derived from the others spans at least K_ANONYMITY values. (Coarsening is not
differential privacy: many edits, or fake founder accounts, can still narrow things down;
only the organisation and staff see this.)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from app.models.base import utcnow
from app.models.profile import Profile
from app.services import opportunities
from app.services.capabilities import Action
from app.services.catalogue import Viewer, get_managed
from app.services.recommendations.criteria import (
    CRITERIA,
    MISMATCH,
    UNKNOWN,
    VERDICTS,
    Criterion,
    codes,
)
from app.services.recommendations.engine import Recommender
from app.services.recommendations.facts import ItemFacts, ProfileFacts, facts_of

K_ANONYMITY = 5
BATCH = 1000
VERDICT_NAMES = ("match", "partial", "unknown", "mismatch")
OVERALL = ("match", "unknown", "mismatch")  # every rule met / none failed, some unknown / failed


def coarse(n: int, k: int = K_ANONYMITY) -> int | None:
    """`n` as shown: None below `k`, otherwise rounded down to a multiple of `k`."""
    return None if n < k else n - n % k


def suppress(counts: dict[str, int], k: int = K_ANONYMITY) -> dict[str, int | None]:
    """Hide cells below `k`, then the smallest others until what is hidden adds up to 0 or
    at least `k` (the row's total is public); the rest rounded down to a multiple of `k`."""
    hidden = {name for name, n in counts.items() if n < k}
    while 0 < sum(counts[name] for name in hidden) < k:
        shown = [name for name in counts if name not in hidden]
        if not shown:
            break
        hidden.add(min(shown, key=lambda name: (counts[name], name)))
    return {name: None if name in hidden else coarse(n, k) for name, n in counts.items()}


@dataclass(frozen=True)
class CriterionAudience:
    criterion: Criterion
    rule: bool  # the opportunity sets a rule on it (otherwise everyone matches)
    counts: dict[str, int | None]  # verdict -> profiles (None: hidden)


@dataclass(frozen=True)
class Audience:
    item_id: PydanticObjectId
    profiles: int | None
    overall: dict[str, int | None]
    criteria: list[CriterionAudience]


def tally(item: ItemFacts, profiles: list[ProfileFacts]) -> tuple[Counter[str], list[Counter[str]]]:
    """(overall verdicts, verdicts per criterion) over `profiles` (pure; in the pool)."""
    overall: Counter[str] = Counter()
    per: list[Counter[str]] = [Counter() for _ in CRITERIA["opportunity"]]
    for profile in profiles:
        judged = codes(profile, item)
        hard = [code for code, is_hard in judged if is_hard]
        if MISMATCH in hard:
            overall["mismatch"] += 1
        elif UNKNOWN in hard:
            overall["unknown"] += 1
        else:
            overall["match"] += 1
        for counter, (code, _) in zip(per, judged, strict=True):
            counter[VERDICTS[code]] += 1
    return overall, per


def _judge_batch(item: ItemFacts, rows: list[dict[str, Any]], now: datetime) -> Any:
    return tally(item, [ProfileFacts.of(Profile.model_validate(r), now) for r in rows])


async def audience(engine: Recommender, who: Viewer, key: str) -> Audience:
    item = await get_managed(opportunities.KIND, who, key, Action.item_view_unpublished)
    facts = facts_of("opportunity", item.model_dump(by_alias=True))
    now = utcnow()
    overall: Counter[str] = Counter()
    per: list[Counter[str]] = [Counter() for _ in CRITERIA["opportunity"]]
    total = 0
    batch: list[dict[str, Any]] = []

    async def judge(rows: list[dict[str, Any]]) -> None:
        more, each = await engine.pool.run(lambda: _judge_batch(facts, rows, now))
        overall.update(more)
        for counter, extra in zip(per, each, strict=True):
            counter.update(extra)

    async for raw in Profile.get_motor_collection().find({}):
        batch.append(raw)
        total += 1
        if len(batch) >= BATCH:
            await judge(batch)
            batch = []
    if batch:
        await judge(batch)
    empty = dict.fromkeys(VERDICT_NAMES, 0)
    rules = [hard for _, hard in codes(ProfileFacts(), facts)]  # hard: the item sets a rule
    return Audience(
        item_id=facts.id,
        profiles=coarse(total),
        overall=suppress({name: overall[name] for name in OVERALL}),
        criteria=[
            CriterionAudience(criterion, rule, suppress({**empty, **counter}))
            for criterion, rule, counter in zip(CRITERIA["opportunity"], rules, per, strict=True)
        ],
    )
