"""Ranking, as arithmetic over a snapshot's arrays (pure: runs in the thread pool, and the
evaluation script runs exactly this on its synthetic world).

score = Σ weight × signal, each signal in 0–1:
- fit: the per-criterion verdicts (a met eligibility rule counts most, an unknown one less
  than an item that sets no rule, a mismatch nothing);
- text: similarity of the profile's words (bio, industries, interests, SDGs) to the item's,
  moved towards what the founder saved or applied to and away from what they dismissed as
  not relevant (Rocchio);
- co-interaction: founders who saved what this founder saved also saved this;
- freshness, urgency (a deadline or start date close, but not past), popularity, featured;
minus what dismissals taught: items sharing the eligibility rules of items dismissed as
`not_eligible`, and types dismissed as `not_relevant` again and again. A hard mismatch
keeps a quarter of its score (shown only with include_ineligible). Finally a greedy
re-ranking lowers each further item of an organisation already in the list, so one
publisher cannot fill a page; the displayed score is that adjusted score, which never
increases down the list (so keyset paging on it is exact).
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
from beanie import PydanticObjectId

from app.services.recommendations.behaviour import Feedback, Interactions
from app.services.recommendations.criteria import CRITERIA, MISMATCH
from app.services.recommendations.facts import ItemFacts, ProfileFacts
from app.services.recommendations.features import FloatArray, G, verdicts
from app.services.recommendations.index import Snapshot, rows_of


class Scored(NamedTuple):
    item_id: PydanticObjectId
    score: int  # millionths (0–1,000,000): the keyset cursor's integer sort value
    eligible: bool  # no eligibility rule of the item is known to exclude the user


DAY = 86400.0
HARD_VALUE = np.array([1.0, 0.6, 0.3, 0.0, 0.5])  # by code: match partial unknown mismatch open
SOFT_VALUE = np.array([1.0, 0.5, 0.25, 0.0, 0.5])
CRITERION_WEIGHTS = {
    "opportunity": {
        "industries": 1.5,
        "stage": 1.0,
        "location": 1.0,
        "target_communities": 1.0,
        "years_in_business": 0.7,
        "team_size": 0.7,
        "revenue_band": 0.7,
        "amount": 0.8,
        "sdgs": 0.6,
        "interests": 1.0,
    },
    "event": {
        "industries": 1.2,
        "location": 1.2,
        "target_communities": 0.8,
        "sdgs": 0.6,
        "interests": 1.2,
    },
}
RULE_GROUPS = frozenset({"ri", "st", "co", "re", "rc", "rv"})
INELIGIBLE_FACTOR = 0.25
# an item whose every rule an item dismissed as `not_eligible` also had (scaled by the share)
NOT_ELIGIBLE = 0.3
DIVERSITY = 0.06  # per earlier item of the same organisation in the list
LIST_ELIGIBLE = 400
LIST_INELIGIBLE = 100
SCALE = 1_000_000  # scores are cached and paged as integer millionths


@dataclass(frozen=True)
class Blend:
    fit: float
    text: float
    co: float
    fresh: float
    urgency: float
    popularity: float
    featured: float


# Tuned on the synthetic population of scripts/eval_recommendations.py (seed 7), checked on
# another seed and under a stronger popularity bias (the README has the figures).
WITH_PROFILE = Blend(fit=0.20, text=0.20, co=0.20, fresh=0.05, urgency=0.05, popularity=0.25, featured=0.05)  # fmt: skip
WITHOUT_PROFILE = Blend(fit=0.05, text=0.10, co=0.15, fresh=0.25, urgency=0.10, popularity=0.30, featured=0.05)  # fmt: skip


@dataclass(frozen=True)
class Inputs:
    snapshot: Snapshot
    interactions: Interactions
    profile: ProfileFacts
    query: Any  # the profile's text row (1 × D) in the snapshot's space, or None
    feedback: Feedback
    user_id: Any
    now: datetime


def _scaled(values: FloatArray, mask: Any) -> FloatArray:
    """`values` mapped to 0–1 over the candidates: the 10th percentile → 0 (TF-IDF: no word
    in common; embeddings: what any two texts share), the maximum → 1."""
    if not mask.any():
        return np.zeros_like(values)
    low, high = float(np.percentile(values[mask], 10)), float(values[mask].max())
    if high <= low:
        return np.where(values > low, 1.0, 0.0) if high > 0 else np.zeros_like(values)
    scaled: FloatArray = np.clip((values - low) / (high - low), 0.0, 1.0)
    return scaled


# Vectors multiplied with an index matrix have its dtype (float32): a float64 one would make
# scipy convert the whole matrix on every product (measured: 89 ms instead of 5 at 50,000).
VECTOR = np.float32


def _mean_row(text: Any, rows: list[int]) -> Any:
    return np.asarray(text[rows].mean(axis=0), VECTOR).ravel()


def _dense(row: Any) -> Any:
    return np.asarray(row.todense() if hasattr(row, "todense") else row, VECTOR).ravel()


def fit_scores(snap: Snapshot, profile: ProfileFacts) -> tuple[FloatArray, Any]:
    """(fit 0–1, eligible) per row."""
    codes, hard = verdicts(snap.kind, snap.features, profile, snap.vocab, snap.labels)
    weights = np.array([CRITERION_WEIGHTS[snap.kind][c] for c in CRITERIA[snap.kind]])
    values = np.where(hard, HARD_VALUE[codes], SOFT_VALUE[codes])
    fit: FloatArray = values @ weights / weights.sum()
    eligible = ~np.any(hard & (codes == MISMATCH), axis=1)
    return fit, eligible


def fit_of(kind: str, judged: list[tuple[int, bool]]) -> float:
    """`fit_scores` for one item: the same weights and values."""
    weights = [CRITERION_WEIGHTS[kind][c] for c in CRITERIA[kind]]  # type: ignore[index]
    values = [(HARD_VALUE if hard else SOFT_VALUE)[code] for code, hard in judged]
    return float(np.dot(weights, values) / sum(weights))


def _text(inputs: Inputs, candidates: Any) -> FloatArray:
    snap, fb = inputs.snapshot, inputs.feedback
    if snap.size == 0 or snap.text.shape[1] == 0:
        return np.zeros(snap.size)
    query = np.zeros(snap.text.shape[1], VECTOR)
    if inputs.query is not None and inputs.query.shape[1] == snap.text.shape[1]:
        query += _dense(inputs.query)
    for ids, weight in (
        (list(fb.liked), 0.6),
        (fb.dismissed_for("not_relevant"), -0.3),
        (fb.dismissed_for("other", None), -0.15),
    ):
        rows = rows_of(snap, ids)
        if rows:
            query += weight * _mean_row(snap.text, rows)
    if not query.any():
        return np.zeros(snap.size)
    return _scaled(np.asarray(snap.text @ query, np.float64).ravel(), candidates)


def _urgency(due: FloatArray, now: float) -> FloatArray:
    days = (due - now) / DAY
    with np.errstate(invalid="ignore"):
        ramp = 1.0 - 0.8 * (days - 21) / 69
        out = np.select(
            [np.isnan(days), days < 0, days < 2, days <= 21, days <= 90],
            [0.3, 0.2, 0.6, 1.0, ramp],
            0.2,
        )
    result: FloatArray = out
    return result


def _time_signals(snap: Snapshot, now: datetime) -> tuple[FloatArray, FloatArray]:
    numbers = snap.features.numbers
    age = np.maximum(0.0, (now.timestamp() - numbers["published"]) / DAY)
    return np.exp(-age / 45.0), _urgency(numbers["due"], now.timestamp())


def _popularity(snap: Snapshot, interactions: Interactions, columns: Any, mask: Any) -> FloatArray:
    counts = np.maximum(interactions.popularity(columns), snap.features.numbers["popularity"])
    top = float(counts[mask].max()) if mask.any() else 0.0
    if top <= 0:
        return np.zeros(snap.size)
    scaled: FloatArray = np.log1p(counts) / math.log1p(top)
    return scaled


def _taught(snap: Snapshot, fb: Feedback) -> FloatArray:
    """What dismissals taught: rules like those of items the founder is not eligible for,
    types they keep finding not relevant."""
    penalty = np.zeros(snap.size)
    rows = rows_of(snap, fb.dismissed_for("not_eligible"))
    if rows:
        attrs = snap.features.attrs
        columns = {int(c) for r in rows for c in attrs[r].indices}
        rules = [c for c in columns if snap.vocab.tokens[c][:2] in RULE_GROUPS]
        if rules:
            probe = np.zeros(attrs.shape[1], VECTOR)
            probe[rules] = 1.0
            shared = np.asarray(attrs @ probe).ravel()
            counts = snap.features.counts[:, [G[g] for g in RULE_GROUPS]].sum(axis=1)
            penalty += NOT_ELIGIBLE * shared / np.maximum(counts, 1)
    irrelevant = rows_of(snap, fb.dismissed_for("not_relevant"))
    if irrelevant:
        types = snap.features.codes["type"]
        for code, times in Counter(int(types[r]) for r in irrelevant).items():
            penalty += np.where(types == code, 0.05 * min(1.0, times / 3), 0.0)
    return penalty


def diversify(
    snap: Snapshot, rows: Any, scores: FloatArray, eligible: Any, weight: float
) -> list[tuple[int, float]]:
    """Greedy: repeatedly take the best item, its score lowered by `weight` for each
    eligible item of its organisation already taken (lazy: a score only ever drops)."""
    rows = [int(r) for r in rows]
    score = dict(zip(rows, scores[rows].tolist(), strict=True))
    org = dict(zip(rows, snap.features.codes["organisation"][rows].tolist(), strict=True))
    counts = dict(zip(rows, eligible[rows].tolist(), strict=True))
    ranks = snap.id_rank[rows].tolist()
    heap = [(-score[r], -rank, r) for r, rank in zip(rows, ranks, strict=True)]
    heapq.heapify(heap)
    taken: dict[int, int] = {}
    out: list[tuple[int, float]] = []
    while heap:
        _, key, row = heapq.heappop(heap)
        current = score[row] - weight * taken.get(org[row], 0)
        if heap and (-current, key) > heap[0][:2]:
            heapq.heappush(heap, (-current, key, row))
            continue
        out.append((row, current))
        if counts[row]:
            taken[org[row]] = taken.get(org[row], 0) + 1
    return out


def _top(mask: Any, scores: FloatArray, k: int) -> Any:
    rows = np.flatnonzero(mask)
    if len(rows) > k:
        rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
    return rows


def cached(snap: Snapshot, picked: list[tuple[int, float]], eligible: Any) -> list[Scored]:
    ranks = snap.id_rank
    rows = [
        (round(min(1.0, max(0.0, score)) * SCALE), int(ranks[row]), row) for row, score in picked
    ]
    rows.sort(key=lambda r: (-r[0], -r[1]))  # equal millionths: by id, descending
    return [Scored(snap.facts[row].id, score, bool(eligible[row])) for score, _, row in rows]


def rank(inputs: Inputs) -> list[Scored]:
    """The founder's ranking: eligible items first in number, a few ineligible ones after."""
    snap, fb, now = inputs.snapshot, inputs.feedback, inputs.now
    if snap.size == 0:
        return []
    skip = rows_of(snap, [*fb.dismissed, *fb.liked])
    candidates = snap.open_rows(now)
    candidates[skip] = False
    blend = WITH_PROFILE if inputs.profile.exists else WITHOUT_PROFILE
    fit, eligible = fit_scores(snap, inputs.profile)
    columns = inputs.interactions.columns_for(snap.ids, id(snap))
    co = inputs.interactions.co_scores(columns, list(fb.liked), inputs.user_id)
    co_top = float(co[candidates].max()) if candidates.any() else 0.0
    fresh, urgency = _time_signals(snap, now)
    score = (
        blend.fit * fit
        + blend.text * _text(inputs, candidates)
        + blend.co * (co / co_top if co_top > 0 else 0.0)
        + blend.fresh * fresh
        + blend.urgency * urgency
        + blend.popularity * _popularity(snap, inputs.interactions, columns, candidates)
        + blend.featured * snap.features.numbers["featured"]
        - _taught(snap, fb)
    )
    score = np.where(eligible, score, score * INELIGIBLE_FACTOR)
    rows = np.concatenate(
        [
            _top(candidates & eligible, score, LIST_ELIGIBLE),
            _top(candidates & ~eligible, score, LIST_INELIGIBLE),
        ]
    )
    return cached(snap, diversify(snap, rows, score, eligible, DIVERSITY), eligible)


@dataclass(frozen=True)
class Similar:
    row: int
    score: float
    topics: bool  # shares industries, topics, SDGs or communities
    co_saved: bool  # founders who saved the source also saved it


def similar(
    snap: Snapshot,
    interactions: Interactions,
    source: ItemFacts,
    vector: Any,
    exclude: set[Any],
    now: datetime,
    limit: int = 100,
) -> list[Similar]:
    """Items like `source` (`vector`: its text row in the snapshot's space)."""
    if snap.size == 0:
        return []
    candidates = snap.open_rows(now)
    candidates[rows_of(snap, [source.id, *exclude])] = False
    text = np.zeros(snap.size)
    if vector is not None and vector.shape[1] == snap.text.shape[1] and snap.text.shape[1]:
        text = _scaled(np.asarray(snap.text @ _dense(vector), np.float64).ravel(), candidates)
    topics = _shared_topics(snap, source)
    columns = interactions.columns_for(snap.ids, id(snap))
    co = interactions.co_scores(columns, [source.id], None)
    co_top = float(co[candidates].max()) if candidates.any() else 0.0
    same_type = snap.features.codes["type"] == snap.labels.get(f"type:{source.type}")
    fresh, _ = _time_signals(snap, now)
    score = (
        0.45 * text
        + 0.25 * topics
        + 0.20 * (co / co_top if co_top > 0 else 0.0)
        + 0.05 * same_type
        + 0.05 * fresh
    )
    picked = diversify(snap, _top(candidates, score, limit), score, candidates, 0.04)
    return [Similar(r, max(0.0, s), bool(topics[r] > 0), bool(co[r] > 0)) for r, s in picked]


TOPIC_GROUPS = ("ti", "tg", "sd", "tc")


def _shared_topics(snap: Snapshot, source: ItemFacts) -> FloatArray:
    """Jaccard overlap of industries, topics, SDGs and communities with `source`."""
    wanted = [
        *(f"ti:{v}" for v in source.industries | source.rule_industries),
        *(f"tg:{v}" for v in source.tags),
        *(f"sd:{v}" for v in source.sdgs),
        *(f"tc:{v}" for v in source.communities),
    ]
    attrs = snap.features.attrs
    columns = [
        c for c in (snap.vocab.get(t) for t in wanted) if c is not None and c < attrs.shape[1]
    ]
    if not wanted:
        return np.zeros(snap.size)
    probe = np.zeros(attrs.shape[1], VECTOR)
    probe[columns] = 1.0
    shared = np.asarray(attrs @ probe).ravel()
    mine = snap.features.counts[:, [G[g] for g in TOPIC_GROUPS]].sum(axis=1)
    union = np.maximum(mine + len(wanted) - shared, 1)
    overlap: FloatArray = shared / union
    return overlap
