"""One process's recommendation engine: its thread pool, text provider, in-memory indexes
and interaction matrices. The API lifespan and the worker each start one
(`Recommender.start`), and tasks reach it through `current()`, like the task runtime.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from app.core.config import Settings
from app.core.cpu_pool import CpuPool, PoolBusy
from app.models.event import Event
from app.models.opportunity import Opportunity
from app.services.recommendations.behaviour import InteractionsCache
from app.services.recommendations.facts import Kind
from app.services.recommendations.index import CatalogueIndex, generation
from app.services.recommendations.text import make_provider

_active: list[Recommender] = []


class RecommendationsBusy(PoolBusy):
    code = "RECOMMENDATIONS_BUSY"
    message = "Too many recommendations are being computed; try again shortly."


class Recommender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool = CpuPool(
            workers=settings.recommendation_workers,
            queue=settings.recommendation_queue,
            wait_seconds=settings.recommendation_wait_seconds,
            name="recommend",
            busy=RecommendationsBusy,
        )
        self.provider = make_provider(settings, self.pool.run)
        models: dict[Kind, Any] = {"opportunity": Opportunity, "event": Event}
        self.indexes = {
            kind: CatalogueIndex(kind, model, self.provider, self.pool.run, settings)
            for kind, model in models.items()
        }
        self._warming: list[asyncio.Task[None]] = []
        self.interactions = {
            kind: InteractionsCache(kind, self.pool.run, settings.recommendation_signals_seconds)
            for kind in models
        }

    def start(self) -> Recommender:
        _active.append(self)
        return self

    def warm_up(self, *, freeze: bool) -> None:
        """Build the indexes in the background now, rather than in the first request. With
        `freeze`, the built indexes join the objects the garbage collector never scans (as
        `create_app` does for the start-up heap): tens of thousands of items' facts would
        otherwise make every full collection pause the process for hundreds of ms. Later
        snapshots reuse the facts of unchanged items, so those stay out of its way too."""

        async def build() -> None:
            for kind in self.indexes:
                await self.indexes[kind].current(await generation(kind))
            if freeze:
                gc.collect()
                gc.freeze()

        self._warming = [asyncio.create_task(build(), name="recommendations-warm-up")]

    async def close(self) -> None:
        for task in self._warming:
            task.cancel()
        await asyncio.gather(*self._warming, return_exceptions=True)
        for index in self.indexes.values():
            await index.close()
        await self.provider.close()
        await self.pool.close()
        if self in _active:
            _active.remove(self)


def current() -> Recommender:
    """The engine of this process (the API's or the worker's)."""
    if not _active:
        raise RuntimeError("no recommendation engine is running in this process")
    return _active[-1]
