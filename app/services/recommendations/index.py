"""Each process's in-memory index of the items that can be recommended: their facts, their
attributes as arrays (`features.py`) and their text vectors, one immutable `Snapshot` per
kind, replaced as a whole when the catalogue changes.

Freshness: every change that matters bumps the kind's generation in MongoDB
(`catalogue_generations`, one `$inc`). A request reads that number (one small document) and,
when it moved, the index re-reads only the items changed since its watermark (the `updated`
index) and swaps in a new snapshot: changed items are appended, their old rows and the items
that left the public set are marked dead, and dead rows are dropped once they are a quarter
of the rows. Every RECOMMENDATION_INDEX_REFRESH_SECONDS it re-reads changes anyway (a write
no signal announced), and every RECOMMENDATION_INDEX_REBUILD_SECONDS it is rebuilt from
scratch in the background (re-fitting the text vocabulary) while the old one keeps serving.
Deadlines that pass need no change: rows carry their closing time, checked at scoring.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
import structlog
from beanie import Document, PydanticObjectId
from pymongo import ReturnDocument

from app.core.config import Settings
from app.models.base import utcnow
from app.models.recommendation import CatalogueGeneration
from app.models.reference import ReferenceItem
from app.services.recommendations.criteria import Names
from app.services.recommendations.facts import (
    PROJECTION,
    ItemFacts,
    Kind,
    changed,
    facts_of,
    item_text,
    open_filter,
    recommendable,
)
from app.services.recommendations.features import BoolArray, Features, Vocabulary
from app.services.recommendations.text import Run, TextDoc, TextProvider

log = structlog.get_logger("app.recommendations")

BATCH = 1000  # rows parsed per thread-pool job while loading
MARGIN = timedelta(seconds=5)  # writes in flight when a refresh starts are read again
COMPACT_AT = 0.25  # drop dead rows once they are this share of all rows


async def generation(kind: Kind) -> int:
    doc = await CatalogueGeneration.get_motor_collection().find_one({"_id": kind})
    return int(doc["generation"]) if doc else 0


async def bump(kind: Kind) -> int:
    doc = await CatalogueGeneration.get_motor_collection().find_one_and_update(
        {"_id": kind},
        {"$inc": {"generation": 1}, "$set": {"changed_at": utcnow()}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    return int(doc["generation"])


def _stack(a: Any, b: Any) -> Any:
    """Rows of `b` under rows of `a` (sparse or dense, possibly empty or narrower)."""
    if a.shape[0] == 0:
        return b
    if b.shape[0] == 0:
        return a
    if sp.issparse(a):
        width = max(a.shape[1], b.shape[1])
        a = sp.csr_matrix((a.data, a.indices, a.indptr), (a.shape[0], width))
        b = sp.csr_matrix((b.data, b.indices, b.indptr), (b.shape[0], width))
        return sp.vstack([a, b], "csr")
    return np.vstack([a, b])


@dataclass(frozen=True)
class Snapshot:
    kind: Kind
    generation: int
    checked_at: float  # monotonic: last compared with the database
    built_at: float  # monotonic: last built from scratch
    built_size: int  # rows then: the text space was fitted on these
    watermark: datetime  # the next refresh reads items changed since
    facts: list[ItemFacts]
    row_of: dict[PydanticObjectId, int]  # an item's live row
    alive: BoolArray
    features: Features
    text: Any  # rows L2-normalised (csr_matrix or ndarray)
    space: Any  # the text provider's fitted space
    names: Names
    vocab: Vocabulary
    labels: Vocabulary

    @property
    def size(self) -> int:
        return len(self.facts)

    @cached_property
    def ids(self) -> list[PydanticObjectId]:
        return [f.id for f in self.facts]

    @cached_property
    def id_rank(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Each row's position in id order: ties in score are broken by id, descending."""
        order = sorted(range(self.size), key=lambda row: self.facts[row].id.binary)
        ranks = np.empty(self.size, np.int64)
        ranks[order] = np.arange(self.size)
        return ranks

    def open_rows(self, now: datetime) -> BoolArray:
        closes = self.features.numbers["closes"]
        is_open: BoolArray = self.alive & (closes > now.timestamp())
        return is_open

    def live(self, item_id: PydanticObjectId, now: datetime) -> ItemFacts | None:
        row = self.row_of.get(item_id)
        if row is None or not self.alive[row]:
            return None
        facts = self.facts[row]
        return facts if facts.closes_at is None or facts.closes_at > now else None


def assemble(
    kind: Kind,
    facts: list[ItemFacts],
    text: Any,
    space: Any,
    names: Names,
    stamp: tuple[int, datetime],
    vocab: Vocabulary | None = None,
    labels: Vocabulary | None = None,
) -> Snapshot:
    vocab, labels = vocab or Vocabulary(), labels or Vocabulary()
    now = time.monotonic()
    return Snapshot(
        kind=kind,
        generation=stamp[0],
        checked_at=now,
        built_at=now,
        built_size=len(facts),
        watermark=stamp[1],
        facts=facts,
        row_of={f.id: row for row, f in enumerate(facts)},
        alive=np.ones(len(facts), np.bool_),
        features=Features.build(facts, vocab, labels),
        text=text,
        space=space,
        names=names,
        vocab=vocab,
        labels=labels,
    )


def with_changes(
    snap: Snapshot,
    changed: list[ItemFacts],
    text: Any,
    gone: set[PydanticObjectId],
    stamp: tuple[int, datetime],
    names: Names,
) -> Snapshot:
    """A new snapshot: `changed` appended (their old rows dead), `gone` dead; compacted when
    dead rows reach COMPACT_AT."""
    alive = snap.alive.copy()
    for item_id in gone | {f.id for f in changed}:
        row = snap.row_of.get(item_id)
        if row is not None:
            alive[row] = False
    facts = snap.facts + changed
    features = snap.features.append(Features.build(changed, snap.vocab, snap.labels))
    alive = np.concatenate([alive, np.ones(len(changed), np.bool_)])
    matrix = _stack(snap.text, text)
    if len(facts) and 1 - alive.mean() >= COMPACT_AT:
        keep = np.flatnonzero(alive)
        facts = [facts[int(r)] for r in keep]
        features = features.take(keep)
        matrix = matrix[keep]
        alive = np.ones(len(facts), np.bool_)
    row_of = {f.id: row for row, f in enumerate(facts) if alive[row]}
    return replace(
        snap,
        generation=stamp[0],
        checked_at=time.monotonic(),
        watermark=stamp[1],
        facts=facts,
        row_of=row_of,
        alive=alive,
        features=features,
        text=matrix,
        names=names,
    )


async def load_names() -> Names:
    refs: dict[str, dict[str, str]] = {}
    async for row in ReferenceItem.get_motor_collection().find(
        {}, {"kind": 1, "slug": 1, "name": 1}
    ):
        refs.setdefault(str(row["kind"]), {})[str(row["slug"])] = str(row["name"])
    return Names(refs)


class CatalogueIndex:
    """The snapshots of one kind in this process (see the module docstring)."""

    def __init__(
        self,
        kind: Kind,
        model: type[Document],
        provider: TextProvider,
        run: Run[Any],
        settings: Settings,
    ) -> None:
        self.kind = kind
        self.model = model
        self.provider = provider
        self.run = run
        self.refresh_seconds = settings.recommendation_index_refresh_seconds
        self.rebuild_seconds = settings.recommendation_index_rebuild_seconds
        self._snapshot: Snapshot | None = None
        self._lock = asyncio.Lock()
        self._rebuild: asyncio.Task[None] | None = None

    async def current(self, stamp: int) -> Snapshot:
        """A snapshot at least as new as generation `stamp` (read by the caller)."""
        snap = self._snapshot
        if snap is not None and snap.generation >= stamp and not self._due(snap):
            self._maybe_rebuild(snap)
            return snap
        async with self._lock:
            snap = self._snapshot
            if snap is None:
                snap = await self._build(stamp)
            elif snap.generation < stamp or self._due(snap):
                snap = await self._refresh(snap, stamp)
            self._snapshot = snap
            return snap

    def _due(self, snap: Snapshot) -> bool:
        return time.monotonic() - snap.checked_at >= self.refresh_seconds

    async def _batches(self, query: dict[str, Any]) -> AsyncIterator[list[Any]]:
        batch: list[Any] = []
        async for raw in self.model.get_motor_collection().find(query, PROJECTION):
            batch.append(raw)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    async def _parse(self, rows: list[Any]) -> tuple[list[ItemFacts], list[TextDoc]]:
        """Facts and texts of raw rows, in the pool (thousands of rows at a time)."""
        kind = self.kind
        if not rows:
            return [], []

        def parse() -> tuple[list[ItemFacts], list[TextDoc]]:
            return (
                [facts_of(kind, r) for r in rows],
                [TextDoc(kind, r["_id"], item_text(r)) for r in rows],
            )

        parsed: tuple[list[ItemFacts], list[TextDoc]] = await self.run(parse)
        return parsed

    async def _build(self, stamp: int) -> Snapshot:
        started = utcnow()
        clock = time.perf_counter()
        facts: list[ItemFacts] = []
        docs: list[TextDoc] = []
        old = self._snapshot
        async for batch in self._batches(open_filter(self.kind, started)):
            more, texts = await self._parse(batch)
            if old is not None:  # the same objects for unchanged items (see engine.warm_up)
                more = [_same(old, f) for f in more]
            facts += more
            docs += texts
        space, matrix = await self.provider.fit(docs)
        names = await load_names()
        snap: Snapshot = await self.run(
            lambda: assemble(self.kind, facts, matrix, space, names, (stamp, started - MARGIN))
        )
        log.info(
            "recommendation_index_built",
            kind=self.kind,
            items=len(facts),
            ms=round((time.perf_counter() - clock) * 1000),
        )
        return snap

    async def _refresh(self, snap: Snapshot, stamp: int) -> Snapshot:
        started = utcnow()
        changed: list[ItemFacts] = []
        docs: list[TextDoc] = []
        gone: set[PydanticObjectId] = set()
        async for batch in self._batches({"updated_at": {"$gte": snap.watermark}}):
            keep = [r for r in batch if recommendable(self.kind, r, started)]
            gone |= {PydanticObjectId(r["_id"]) for r in batch} - {r["_id"] for r in keep}
            more, texts = await self._parse([r for r in keep if self._outdated(snap, r)])
            changed += more
            docs += texts
        text = await self.provider.encode(snap.space, docs) if docs else _empty(snap.text)
        names = await load_names()
        fresh: Snapshot = await self.run(
            lambda: with_changes(snap, changed, text, gone, (stamp, started - MARGIN), names)
        )
        return fresh

    @staticmethod
    def _outdated(snap: Snapshot, raw: Any) -> bool:
        row = snap.row_of.get(PydanticObjectId(raw["_id"]))
        return row is None or changed(snap.facts[row], raw)

    def _maybe_rebuild(self, snap: Snapshot) -> None:
        """Re-fit from scratch in the background when the snapshot is old, or has grown by a
        quarter since its text space was fitted (new words are not in it: a catalogue that
        started empty has no vocabulary at all); the old one serves meanwhile, and the
        changes made during the rebuild are read by the next refresh."""
        grown = int(snap.alive.sum()) > 1.25 * snap.built_size + 10
        if not grown and time.monotonic() - snap.built_at < self.rebuild_seconds:
            return
        if self._rebuild is not None and not self._rebuild.done():
            return

        async def rebuild() -> None:
            fresh = await self._build(snap.generation)
            async with self._lock:
                self._snapshot = fresh

        self._rebuild = asyncio.create_task(rebuild(), name=f"recommendations-rebuild-{self.kind}")

    async def close(self) -> None:
        if self._rebuild is not None and not self._rebuild.done():
            self._rebuild.cancel()
            await asyncio.gather(self._rebuild, return_exceptions=True)


def _same(old: Snapshot, fresh: ItemFacts) -> ItemFacts:
    row = old.row_of.get(fresh.id)
    if row is not None and (old.facts[row].version, old.facts[row].updated_at) == (
        fresh.version,
        fresh.updated_at,
    ):
        return old.facts[row]
    return fresh


def _empty(matrix: Any) -> Any:
    if sp.issparse(matrix):
        return sp.csr_matrix((0, matrix.shape[1]), dtype=np.float32)
    return np.zeros((0, matrix.shape[1]), np.float32)


def rows_of(snap: Snapshot, ids: Sequence[PydanticObjectId]) -> list[int]:
    """The live rows of `ids` that are in the snapshot."""
    return [r for r in (snap.row_of.get(i) for i in ids) if r is not None and snap.alive[r]]
