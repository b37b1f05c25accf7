"""Change signals inside one process: a service announces, after its write succeeded, what
changed; other domains listen (recommendations keep their caches fresh this way) without
the announcing service knowing them — the catalogue never imports recommendations.

A listener runs in the request (or task) that made the change, so it must be quick: record
a marker, enqueue a task. Its failure is logged and never undoes or fails the change that
was already written. Listeners connect when their module is imported (the API and the
worker import every task module, which imports the listeners' services).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog
from beanie import PydanticObjectId

log = structlog.get_logger("app.signals")

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class ItemChanged:
    """A catalogue item's live content or status changed (created drafts are not announced:
    nobody outside its organisation sees them until a transition, which is)."""

    entity: str  # the kind's entity: "opportunity", "event"
    item_id: PydanticObjectId
    fields: frozenset[str]


@dataclass(frozen=True, slots=True)
class ProfileChanged:
    user_id: PydanticObjectId
    fields: frozenset[str]


class Signal(Generic[P]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Callable[[P], Awaitable[None]]] = []

    def connect(self, listener: Callable[[P], Awaitable[None]]) -> Callable[[P], Awaitable[None]]:
        """Add a listener (usable as a decorator); connecting the same one twice is a no-op."""
        if listener not in self._listeners:
            self._listeners.append(listener)
        return listener

    async def send(self, payload: P) -> None:
        for listener in list(self._listeners):
            try:
                await listener(payload)
            except Exception as exc:  # the change is written; a listener cannot undo it
                log.error(
                    "signal_listener_failed",
                    signal=self.name,
                    listener=getattr(listener, "__qualname__", repr(listener)),
                    error=type(exc).__name__,
                )


item_changed: Signal[ItemChanged] = Signal("item_changed")
profile_changed: Signal[ProfileChanged] = Signal("profile_changed")
