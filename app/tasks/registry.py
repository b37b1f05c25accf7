"""Where tasks and schedules are declared, independent of the broker that will carry them.

Task modules declare `@task("domain.verb")`; the runtime (`app/tasks/runtime.py`) picks the
broker from the settings at start — in-process, or Redis streams — and points this registry
at it (Taskiq's shared-broker pattern), so the same task code runs on both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from taskiq.brokers.shared_broker import AsyncSharedBroker
from taskiq.decor import AsyncTaskiqDecoratedTask

P = ParamSpec("P")
R = TypeVar("R")

registry = AsyncSharedBroker()

# The modules whose import declares the application's tasks and schedules (the worker and
# the in-process runtime import them all). A new domain adds its module here.
TASK_MODULES = (
    "app.tasks.email",
    "app.tasks.notifications",
    "app.tasks.alerts",
    "app.tasks.ingestion",
    "app.tasks.recommendations",
)


def task(
    name: str,
    *,
    max_attempts: int | None = None,
    timeout_seconds: float | None = None,
) -> Callable[[Callable[P, R]], AsyncTaskiqDecoratedTask[P, R]]:
    """Declare a task. Its name is its stable identity on the wire (never rename a task that
    may have messages in flight). Every task may run more than once: make its effect
    idempotent (`app.tasks.effects`). `max_attempts` overrides TASK_RETRY_MAX_ATTEMPTS."""
    labels: dict[str, Any] = {}
    if max_attempts is not None:
        labels["max_attempts"] = max_attempts
    if timeout_seconds is not None:
        labels["timeout"] = timeout_seconds
    return registry.task(task_name=name, **labels)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A periodic enqueue. `schedule_id` is explicit and stable: schedulers on several
    instances agree on it, and the (schedule, slot) guard is keyed by it. Prefer frequent
    sweeps that claim due work (`app.tasks.claims`) over "do the day's work at 08:00": a
    missed or duplicated fire then costs nothing."""

    schedule_id: str
    task_name: str
    cron: str | None = None
    interval_seconds: int | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.interval_seconds is None):
            raise ValueError(f"{self.schedule_id}: give exactly one of cron, interval_seconds")
        if self.interval_seconds is not None and self.interval_seconds < 1:
            raise ValueError(f"{self.schedule_id}: interval_seconds must be at least 1")


SCHEDULES: list[Schedule] = []


def every(
    schedule_id: str,
    task: AsyncTaskiqDecoratedTask[Any, Any],
    *,
    cron: str | None = None,
    seconds: int | None = None,
    **kwargs: Any,
) -> Schedule:
    """Register a schedule of the application (`cron` in UTC, or every `seconds`)."""
    if any(s.schedule_id == schedule_id for s in SCHEDULES):
        raise ValueError(f"duplicate schedule_id {schedule_id!r}")
    schedule = Schedule(schedule_id, task.task_name, cron, seconds, kwargs)
    SCHEDULES.append(schedule)
    return schedule
