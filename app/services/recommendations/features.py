"""Every item's facts as arrays, and the verdicts of `criteria.py` computed for all items at
once: one sparse matrix product and a few array operations instead of a Python loop, so
one profile is matched against 50,000 items in milliseconds.

Reference lists, stages, countries, regions and revenue bands become tokens ("ri:fintech"
for an eligibility rule's industry, "ti:fintech" for an industry the item is aimed at…), the
columns of one sparse binary matrix; a profile becomes a query matrix of the same columns
(one column per token group), and the product counts, per item and group, the values the
item and the profile share. `test_recommendation_features.py` checks, on random profiles and
items, that the verdicts here are exactly `criteria.judge`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import scipy.sparse as sp

from app.services.recommendations.criteria import (
    CRITERIA,
    MATCH,
    MISMATCH,
    OPEN,
    PARTIAL,
    UNKNOWN,
    Criterion,
)
from app.services.recommendations.facts import ItemFacts, Kind, ProfileFacts

# token groups: a column of the query matrix each
GROUPS = ("ri", "ti", "st", "co", "re", "rc", "tc", "rv", "sd", "tg")
G = {name: i for i, name in enumerate(GROUPS)}
FORMATS = {"in_person": 1, "online": 2, "hybrid": 3}
FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int8]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


class Vocabulary:
    """Token → column, append-only: shared by the successive snapshots of one kind (a
    snapshot only ever looks up columns below its own width)."""

    def __init__(self) -> None:
        self.columns: dict[str, int] = {}
        self.tokens: list[str] = []  # column -> token

    def column(self, token: str) -> int:
        found = self.columns.get(token)
        if found is None:
            self.tokens.append(token)
            found = self.columns[token] = len(self.tokens) - 1
        return found

    def get(self, token: str) -> int | None:
        return self.columns.get(token)

    def __len__(self) -> int:
        return len(self.columns)


def _tokens(item: ItemFacts) -> Iterable[str]:
    yield from (f"ri:{v}" for v in item.rule_industries)
    yield from (f"ti:{v}" for v in item.industries)
    yield from (f"st:{v}" for v in item.stages)
    countries = item.countries if item.kind == "opportunity" else {item.venue_country} - {None}
    yield from (f"co:{v}" for v in countries)
    regions = item.regions if item.kind == "opportunity" else {item.venue_region} - {None}
    yield from (f"re:{v}" for v in regions)
    yield from (f"rc:{v}" for v in item.rule_communities)
    yield from (f"tc:{v}" for v in item.communities)
    yield from (f"rv:{v}" for v in item.revenue_bands)
    yield from (f"sd:{v}" for v in item.sdgs)
    yield from (f"tg:{v}" for v in item.tags)


def _number(value: int | None) -> float:
    return np.nan if value is None else float(value)


def _time(value: datetime | None, default: float) -> float:
    return default if value is None else value.timestamp()


@dataclass(frozen=True)
class Features:
    attrs: Any  # csr_matrix (items × vocabulary width), 1.0 where the item has the token
    counts: np.ndarray[Any, np.dtype[np.int32]]  # items × groups: tokens per group
    numbers: dict[str, FloatArray]  # ranges, amounts, times (NaN: not set)
    codes: dict[str, np.ndarray[Any, np.dtype[np.int32]]]  # currency, format, organisation

    @property
    def size(self) -> int:
        return int(self.counts.shape[0])

    @classmethod
    def build(cls, items: Sequence[ItemFacts], vocab: Vocabulary, labels: Vocabulary) -> Features:
        """`vocab` holds attribute tokens, `labels` currencies and organisations."""
        indptr, indices, groups = [0], [], np.zeros((len(items), len(GROUPS)), np.int32)
        for row, item in enumerate(items):
            for token in _tokens(item):
                indices.append(vocab.column(token))
                groups[row, G[token[:2]]] += 1
            indptr.append(len(indices))
        attrs = sp.csr_matrix(
            (np.ones(len(indices), np.float32), np.array(indices, np.int32), np.array(indptr)),
            shape=(len(items), max(1, len(vocab))),
        )
        inf = float("inf")
        numbers = {
            "min_years": [_number(i.min_years) for i in items],
            "max_years": [_number(i.max_years) for i in items],
            "min_team": [_number(i.min_team) for i in items],
            "max_team": [_number(i.max_team) for i in items],
            "amount_min": [_number(i.amount_min) for i in items],
            "amount_max": [_number(i.amount_max) for i in items],
            "published": [_time(i.published_at, 0.0) for i in items],
            "due": [_time(i.due_at, np.nan) for i in items],
            "closes": [_time(i.closes_at, inf) for i in items],
            "featured": [1.0 if i.featured else 0.0 for i in items],
            "popularity": [float(i.popularity) for i in items],
        }
        codes = {
            "currency": [labels.column(f"cur:{i.currency}") if i.currency else -1 for i in items],
            "format": [FORMATS.get(i.format or "", 0) for i in items],
            "organisation": [labels.column(f"org:{i.organisation_id}") for i in items],
            "type": [labels.column(f"type:{i.type}") for i in items],
        }
        return cls(
            attrs=attrs,
            counts=groups,
            numbers={k: np.array(v, np.float64) for k, v in numbers.items()},
            codes={k: np.array(v, np.int32) for k, v in codes.items()},
        )

    def append(self, other: Features) -> Features:
        width = max(self.attrs.shape[1], other.attrs.shape[1])
        return Features(
            attrs=sp.vstack([_widen(self.attrs, width), _widen(other.attrs, width)], "csr"),
            counts=np.vstack([self.counts, other.counts]),
            numbers={k: np.concatenate([v, other.numbers[k]]) for k, v in self.numbers.items()},
            codes={k: np.concatenate([v, other.codes[k]]) for k, v in self.codes.items()},
        )

    def take(self, rows: np.ndarray[Any, np.dtype[np.intp]]) -> Features:
        return Features(
            attrs=self.attrs[rows],
            counts=self.counts[rows],
            numbers={k: v[rows] for k, v in self.numbers.items()},
            codes={k: v[rows] for k, v in self.codes.items()},
        )


def _widen(matrix: Any, width: int) -> Any:
    if matrix.shape[1] == width:
        return matrix
    return sp.csr_matrix((matrix.data, matrix.indices, matrix.indptr), (matrix.shape[0], width))


def query(p: ProfileFacts, vocab: Vocabulary, width: int) -> Any:
    """The profile as a sparse (width × groups) matrix: which of its values each group asks."""
    wanted: dict[str, Iterable[str | None]] = {
        "ri": p.industries,
        "ti": p.industries,
        "st": [p.stage],
        "co": [p.country],
        "re": [p.region],
        "rc": p.communities,
        "tc": p.communities,
        "rv": [p.revenue_band],
        "sd": p.sdgs,
        "tg": p.interests,
    }
    rows, cols = [], []
    for group, values in wanted.items():
        for value in values:
            column = vocab.get(f"{group}:{value}") if value is not None else None
            if column is not None and column < width:
                rows.append(column)
                cols.append(G[group])
    data = np.ones(len(rows), np.float32)
    return sp.csc_matrix((data, (rows, cols)), shape=(width, len(GROUPS)))


def _where(condition: Any, yes: Any, no: Any) -> IntArray:
    chosen: IntArray = np.where(condition, yes, no).astype(np.int8)
    return chosen


def verdicts(
    kind: Kind, f: Features, p: ProfileFacts, vocab: Vocabulary, labels: Vocabulary
) -> tuple[IntArray, BoolArray]:
    """(codes, hard): items × criteria of `kind`, in `CRITERIA[kind]` order."""
    n = f.size
    shared = np.asarray((f.attrs @ query(p, vocab, f.attrs.shape[1])).todense())
    has = {g: f.counts[:, G[g]] > 0 for g in GROUPS}
    common = {g: shared[:, G[g]] > 0 for g in GROUPS}
    out: dict[Criterion, tuple[IntArray, BoolArray]] = {}
    no = np.zeros(n, np.bool_)

    def listed(rule: str, aimed: str, mine: bool) -> tuple[IntArray, BoolArray]:
        if mine:
            restricted = _where(common[rule], MATCH, MISMATCH)
            loose = _where(has[aimed], _where(common[aimed], MATCH, PARTIAL), OPEN)
        else:
            restricted = np.full(n, UNKNOWN, np.int8)
            loose = np.full(n, OPEN, np.int8)
        return _where(has[rule], restricted, loose), has[rule]

    def one_of(group: str, mine: str | None) -> tuple[IntArray, BoolArray]:
        known = UNKNOWN if mine is None else _where(common[group], MATCH, MISMATCH)
        return _where(has[group], known, OPEN), has[group]

    def within(low: FloatArray, high: FloatArray, mine: int | None) -> tuple[IntArray, BoolArray]:
        rule = ~np.isnan(low) | ~np.isnan(high)
        if mine is None:
            return _where(rule, UNKNOWN, OPEN), rule
        with np.errstate(invalid="ignore"):
            inside = (np.isnan(low) | (mine >= low)) & (np.isnan(high) | (mine <= high))
        return _where(rule, _where(inside, MATCH, MISMATCH), OPEN), rule

    def soft(group: str, mine: bool) -> tuple[IntArray, BoolArray]:
        known = _where(common[group], MATCH, MISMATCH) if mine else UNKNOWN
        return _where(has[group], known, UNKNOWN), no

    out["industries"] = listed("ri", "ti", bool(p.industries))
    out["target_communities"] = listed("rc", "tc", bool(p.communities))
    out["sdgs"] = soft("sd", bool(p.sdgs))
    out["interests"] = soft("tg", bool(p.interests))
    if kind == "event":
        out["location"] = _event_location(f, p, has["co"], common["co"]), no
    else:
        out["location"] = _location(p, has, common)
        out["stage"] = one_of("st", p.stage)
        out["revenue_band"] = one_of("rv", p.revenue_band)
        numbers = f.numbers
        out["years_in_business"] = within(
            numbers["min_years"], numbers["max_years"], p.years_in_business
        )
        out["team_size"] = within(numbers["min_team"], numbers["max_team"], p.team_size)
        out["amount"] = _amount(f, p, labels), no
    names = CRITERIA[kind]
    return (
        np.stack([out[c][0] for c in names], axis=1),
        np.stack([out[c][1] for c in names], axis=1),
    )


def _location(
    p: ProfileFacts, has: dict[str, BoolArray], common: dict[str, BoolArray]
) -> tuple[IntArray, BoolArray]:
    region = UNKNOWN if p.region is None else _where(common["re"], MATCH, MISMATCH)
    if p.country is None:
        country: Any = UNKNOWN
    else:
        country = _where(common["co"], _where(has["re"], region, MATCH), MISMATCH)
    code = _where(has["co"], country, _where(has["re"], region, OPEN))
    return code, has["co"] | has["re"]


def _event_location(f: Features, p: ProfileFacts, venue: BoolArray, same: BoolArray) -> IntArray:
    fmt = f.codes["format"]
    if p.country is None:
        placed: Any = UNKNOWN
    else:
        placed = _where(same, MATCH, _where(fmt == FORMATS["hybrid"], PARTIAL, MISMATCH))
    return _where(fmt == FORMATS["online"], OPEN, _where(venue, placed, UNKNOWN))


def _amount(f: Features, p: ProfileFacts, labels: Vocabulary) -> IntArray:
    low, high = f.numbers["amount_min"], f.numbers["amount_max"]
    currency = f.codes["currency"]
    stated = (~np.isnan(low) | ~np.isnan(high)) & (currency >= 0)
    if p.funding is None:
        return np.full(f.size, UNKNOWN, np.int8)
    need_low, need_high, need_currency = p.funding
    wanted = labels.get(f"cur:{need_currency}")
    same = currency == (-2 if wanted is None else wanted)
    with np.errstate(invalid="ignore"):
        reaches = np.isnan(high) | (need_low is None) | (high >= (need_low or 0))
        fits = np.isnan(low) | (need_high is None) | (low <= (need_high or 0))
    judged = _where(same, _where(reaches & fits, MATCH, MISMATCH), UNKNOWN)
    return _where(stated, judged, UNKNOWN)
