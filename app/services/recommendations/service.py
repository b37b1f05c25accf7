"""The recommendation use cases: a founder's ranked items with reasons, one item's match,
"more like this", and the worker's refreshes. Each takes the process's engine and the
caller (a `Viewer`); items the caller may not see are "not found"; only public items are
ever recommended (the index holds nothing else).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import structlog
from beanie import PydanticObjectId

from app.core.pagination import PageParams, SortSpec, decode_cursor, encode_cursor
from app.models.base import utcnow
from app.models.catalogue import CatalogueItem
from app.models.profile import Profile
from app.services import events, opportunities
from app.services.catalogue import CatalogueKind, Viewer, get_visible
from app.services.recommendations import behaviour, cache, index, ranking
from app.services.recommendations.criteria import CRITERIA, MISMATCH, Reason, codes, reasons
from app.services.recommendations.engine import Recommender
from app.services.recommendations.facts import ItemFacts, Kind, ProfileFacts, facts_of, item_text
from app.services.recommendations.index import Snapshot
from app.services.recommendations.text import TextDoc

log = structlog.get_logger("app.recommendations")
T = TypeVar("T")

KINDS: dict[Kind, CatalogueKind[Any]] = {"opportunity": opportunities.KIND, "event": events.KIND}
RECOMMENDED = SortSpec("recommended", "_score", -1, kind="int")
SIMILAR = SortSpec("similar", "_score", -1, kind="int")


@dataclass(frozen=True)
class Recommended:
    item: ItemFacts
    score: float
    eligible: bool
    reasons: list[Reason]


@dataclass(frozen=True)
class Recommendations:
    items: list[Recommended]
    next_cursor: str | None
    total: int | None
    computed_at: datetime
    has_profile: bool
    missing: list[str]  # profile fields rules ask about that the profile leaves empty
    left_out: int  # open items a rule excludes the user from, not listed (at most 100)


@dataclass(frozen=True)
class Ranking:
    entries: list[ranking.Scored]
    computed_at: datetime
    snapshot: Snapshot
    profile: ProfileFacts
    feedback: behaviour.Feedback
    computed_now: bool


async def _profile(user_id: PydanticObjectId, now: datetime) -> ProfileFacts:
    return ProfileFacts.of(await Profile.find_one({"user_id": user_id}), now)


async def ranking_for(
    engine: Recommender, user_id: PydanticObjectId, kind: Kind, *, now: datetime | None = None
) -> Ranking:
    """The user's ranking: the cached one while valid, otherwise computed and cached."""
    now = now or utcnow()
    profile = await _profile(user_id, now)
    feedback = await behaviour.feedback(user_id, kind)
    stamp = await index.generation(kind)
    snap = await engine.indexes[kind].current(stamp)
    key = cache.basis(profile, feedback, engine.provider.name)
    found = await cache.load(user_id, kind)
    if cache.valid(found, key, stamp, now, engine.settings.recommendation_cache_seconds):
        assert found is not None  # noqa: S101 - valid() checked it
        await cache.mark_read(found, now)
        entries = cache.unpack(found.ranking)
        return Ranking(entries, found.computed_at, snap, profile, feedback, False)
    entries = await _compute(engine, snap, profile, feedback, user_id, now)
    await cache.store(user_id, kind, key, snap.generation, entries, now)
    return Ranking(entries, now, snap, profile, feedback, True)


async def _compute(
    engine: Recommender,
    snap: Snapshot,
    profile: ProfileFacts,
    feedback: behaviour.Feedback,
    user_id: PydanticObjectId,
    now: datetime,
) -> list[ranking.Scored]:
    interactions = await engine.interactions[snap.kind].current()
    query = None
    if profile.text:
        doc = TextDoc("profile", user_id, profile.text)
        query = await engine.provider.encode_query(snap.space, doc)
    inputs = ranking.Inputs(snap, interactions, profile, query, feedback, user_id, now)
    entries: list[ranking.Scored] = await engine.pool.run(lambda: ranking.rank(inputs))
    return entries


def _after(cursor: str | None, sort: SortSpec) -> tuple[int, bytes] | None:
    if not cursor:
        return None
    score, item_id = decode_cursor(sort, cursor)
    return score, item_id.binary  # ids compare as their bytes do


def _page(
    rows: Iterable[tuple[int, PydanticObjectId, T]], page: PageParams, sort: SortSpec
) -> tuple[list[T], str | None, int | None]:
    """Keyset paging over (score, id) descending of an already ordered list; reads only as
    far as the page needs unless the total is asked for."""
    total = None
    if page.include_total:
        rows = list(rows)
        total = len(rows)
    after = _after(page.cursor, sort)
    window: list[tuple[int, PydanticObjectId, T]] = []
    for row in rows:
        if after is None or (row[0], row[1].binary) < after:
            window.append(row)
            if len(window) > page.limit:
                break
    next_cursor = None
    if len(window) > page.limit:
        score, item_id, _ = window[page.limit - 1]
        next_cursor = encode_cursor(sort, score, item_id)
    return [r[2] for r in window[: page.limit]], next_cursor, total


async def recommend(
    engine: Recommender, who: Viewer, kind: Kind, page: PageParams, include_ineligible: bool
) -> Recommendations:
    now = utcnow()
    found = await ranking_for(engine, who.user.id, kind, now=now)
    snap, dismissed = found.snapshot, found.feedback.dismissed

    def listed() -> Iterator[tuple[int, PydanticObjectId, tuple[ranking.Scored, ItemFacts]]]:
        for entry in found.entries:
            if (entry.eligible or include_ineligible) and entry.item_id not in dismissed:
                item = snap.live(entry.item_id, now)  # still public and open
                if item is not None:
                    yield entry.score, entry.item_id, (entry, item)

    picked, cursor, total = _page(listed(), page, RECOMMENDED)
    left_out = 0
    if not include_ineligible:
        left_out = sum(
            1
            for e in found.entries
            if not e.eligible and e.item_id not in dismissed and snap.live(e.item_id, now)
        )
    items = [
        Recommended(item, e.score / ranking.SCALE, e.eligible, reasons(found.profile, item, snap.names))
        for e, item in picked
    ]  # fmt: skip
    return Recommendations(
        items,
        cursor,
        total,
        found.computed_at,
        found.profile.exists,
        found.profile.missing(),
        left_out,
    )


def _raw(item: CatalogueItem) -> dict[str, Any]:
    return item.model_dump(by_alias=True)


@dataclass(frozen=True)
class Match:
    item_id: PydanticObjectId
    eligible: bool
    fit: float
    reasons: list[Reason]
    has_profile: bool
    missing: list[str]


async def match(engine: Recommender, who: Viewer, key: str) -> Match:
    """The caller's verdict for one opportunity they can see (published, or their own)."""
    item = await get_visible(opportunities.KIND, who, key)
    profile = await _profile(who.user.id, utcnow())
    facts = facts_of("opportunity", _raw(item))
    stamp = await index.generation("opportunity")
    names = (await engine.indexes["opportunity"].current(stamp)).names
    judged = codes(profile, facts)
    return Match(
        item_id=facts.id,
        eligible=not any(hard and code == MISMATCH for code, hard in judged),
        fit=ranking.fit_of("opportunity", judged),
        reasons=reasons(profile, facts, names),
        has_profile=profile.exists,
        missing=profile.missing(),
    )


@dataclass(frozen=True)
class SimilarItem:
    item: ItemFacts
    score: float
    topics: bool
    co_saved: bool


async def similar(
    engine: Recommender, who: Viewer, kind: Kind, key: str, page: PageParams
) -> tuple[list[SimilarItem], str | None, int | None]:
    """Public items like one the caller can see, best first (their dismissals left out)."""
    doc = await get_visible(KINDS[kind], who, key)
    now = utcnow()
    stamp = await index.generation(kind)
    snap = await engine.indexes[kind].current(stamp)
    raw = _raw(doc)
    source = snap.live(PydanticObjectId(raw["_id"]), now)
    if source is not None:
        row = snap.row_of[source.id]
        vector = snap.text[row : row + 1]
    else:  # not public (a manager's draft) or closed: placed in the index's space now
        source = facts_of(kind, raw)
        vector = await engine.provider.encode_query(snap.space, TextDoc(kind, None, item_text(raw)))
    exclude: set[Any] = set()
    if who.principal is not None:
        exclude = set((await behaviour.feedback(who.principal.id, kind)).dismissed)
    interactions = await engine.interactions[kind].current()
    found = await engine.pool.run(
        lambda: ranking.similar(snap, interactions, source, vector, exclude, now)
    )
    rows = [
        (
            round(s.score * ranking.SCALE),
            snap.facts[s.row].id,
            SimilarItem(snap.facts[s.row], round(s.score * ranking.SCALE) / ranking.SCALE, s.topics, s.co_saved),
        )
        for s in found
    ]  # fmt: skip
    rows.sort(key=lambda r: (r[0], r[1].binary), reverse=True)
    return _page(rows, page, SIMILAR)


# --- the worker's side --------------------------------------------------------------------


async def refresh_user(engine: Recommender, user_id: PydanticObjectId) -> int:
    """Re-rank both kinds for a user whose profile changed (a no-op where still valid)."""
    computed = 0
    for kind in CRITERIA:
        computed += (await ranking_for(engine, user_id, kind)).computed_now
    return computed


async def refresh_active(engine: Recommender, kind: Kind, generation: int) -> int:
    """After a catalogue change: re-rank the recently active users whose ranking predates
    it. Skipped when a newer change happened meanwhile (its own run does the work)."""
    if await index.generation(kind) != generation:
        return 0
    since = utcnow() - timedelta(days=engine.settings.recommendation_active_days)
    users = await cache.active_users(
        kind, generation, since, engine.settings.recommendation_refresh_batch
    )
    for user_id in users:
        if await index.generation(kind) != generation:
            break
        await ranking_for(engine, user_id, kind)
    return len(users)
