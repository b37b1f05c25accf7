"""One process's recommendation engine: its thread pool, text provider, in-memory indexes
and interaction matrices. The API lifespan and the worker each start one
(`Recommender.start`), and tasks reach it through `current()`, like the task runtime.
"""

from __future__ import annotations

from typing import Any

from app.core.config import Settings
from app.core.cpu_pool import CpuPool, PoolBusy
from app.models.event import Event
from app.models.opportunity import Opportunity
from app.services.recommendations.behaviour import InteractionsCache
from app.services.recommendations.facts import Kind
from app.services.recommendations.index import CatalogueIndex
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
        self.interactions = {
            kind: InteractionsCache(kind, self.pool.run, settings.recommendation_signals_seconds)
            for kind in models
        }

    def start(self) -> Recommender:
        _active.append(self)
        return self

    async def close(self) -> None:
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
