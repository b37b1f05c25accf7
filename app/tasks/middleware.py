"""What every task gets, on either broker: the enqueuing request's id, one log line when it
starts and one when it ends, and retries with capped exponential back-off and jitter.

Taskiq's own `SmartRetryMiddleware` is not used: its "exponential" delay is linear
(delay × attempt), it reads its base delay from the same `delay` label it writes, and with the
plain Redis broker the delay is ignored. Here the retry is a new message carrying an `eta`
label that both brokers honour (`app/tasks/brokers.py`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import structlog
from taskiq.abc.middleware import TaskiqMiddleware
from taskiq.kicker import AsyncKicker
from taskiq.message import TaskiqMessage
from taskiq.result import TaskiqResult

from app.core.context import request_id_var

log = structlog.get_logger("app.tasks")


class PermanentTaskError(Exception):
    """Raise from a task when retrying cannot help (bad input, object gone)."""


def backoff_seconds(
    attempt: int, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Delay before attempt `attempt + 1`: base·2^(attempt−1), capped, with "equal jitter"
    (half fixed, half random) so retries of many failed tasks do not arrive together."""
    ceiling = min(cap, base * (1 << max(0, attempt - 1)))
    jitter: float = (rng or random).uniform(0, ceiling / 2)
    return ceiling / 2 + jitter


def _ids(message: TaskiqMessage) -> dict[str, Any]:
    """The identifying arguments worth a log field (ids and keys, never payloads)."""
    return {
        name: value
        for name, value in message.kwargs.items()
        if (name in {"key", "job"} or name.endswith(("_id", "_key")))
        and isinstance(value, str | int)
        and len(str(value)) <= 120
    }


class _QuietReceiverErrors(logging.Filter):
    """Taskiq logs every task exception with its message and traceback; exception messages
    may carry secrets (an SMTP reply, a URL). Our `task_done` line names the error type."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Exception found while executing function")


def quiet_taskiq_logs() -> None:
    logging.getLogger("taskiq").setLevel(logging.WARNING)
    receiver = logging.getLogger("taskiq.receiver.receiver")
    if not any(isinstance(f, _QuietReceiverErrors) for f in receiver.filters):
        receiver.addFilter(_QuietReceiverErrors())


class TaskLifecycle(TaskiqMiddleware):
    def __init__(self, *, max_attempts: int, base_seconds: float, max_seconds: float) -> None:
        super().__init__()
        self.max_attempts = max_attempts
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds
        self._runs: dict[int, dict[str, Any]] = {}  # id(message) -> start time, outcome
        self.running: set[asyncio.Task[Any]] = set()  # the asyncio tasks running a task now

    # --- on the enqueuing side ----------------------------------------------------------

    def pre_send(self, message: TaskiqMessage) -> TaskiqMessage:
        request_id = request_id_var.get()
        if request_id and "request_id" not in message.labels:
            message.labels["request_id"] = request_id
        return message

    # --- on the worker ------------------------------------------------------------------

    def _attempt(self, message: TaskiqMessage) -> tuple[int, int]:
        attempt = int(message.labels.get("_retries") or 0) + 1
        limit = int(message.labels.get("max_attempts") or self.max_attempts)
        return attempt, limit

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        """Runs in the task's own asyncio task: what it binds is seen by the task's logs."""
        request_id = message.labels.get("request_id") or None
        request_id_var.set(request_id)
        structlog.contextvars.bind_contextvars(task=message.task_name, task_id=message.task_id)
        if request_id:
            structlog.contextvars.bind_contextvars(request_id=request_id)
        else:
            structlog.contextvars.unbind_contextvars("request_id")
        attempt, limit = self._attempt(message)
        log.info("task_started", attempt=attempt, max_attempts=limit, **_ids(message))
        self._runs[id(message)] = {"started": time.perf_counter(), "outcome": "failed"}
        current = asyncio.current_task()
        if current is not None:
            self.running.add(current)
            self._runs[id(message)]["task"] = current
        return message

    async def on_error(
        self, message: TaskiqMessage, result: TaskiqResult[Any], exception: BaseException
    ) -> None:
        if isinstance(exception, asyncio.CancelledError):
            # The worker is stopping (or the app, in-process): no retry and no
            # acknowledgement, so a Redis message stays pending and is redelivered.
            self._finish(message, {"outcome": "cancelled"}, exception)
            raise exception
        attempt, limit = self._attempt(message)
        if isinstance(exception, PermanentTaskError) or attempt >= limit:
            return  # post_execute logs the failure
        delay = backoff_seconds(attempt, self.base_seconds, self.max_seconds)
        labels = {k: v for k, v in message.labels.items() if k not in {"_retries", "eta"}}
        await (
            AsyncKicker(task_name=message.task_name, broker=self.broker, labels=labels)
            .with_task_id(message.task_id)
            .with_labels(_retries=attempt, eta=time.time() + delay)
            .kiq(*message.args, **message.kwargs)
        )
        run = self._runs.setdefault(id(message), {"started": time.perf_counter()})
        run.update(outcome="retrying", retry_in_s=round(delay, 3))

    def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        extra = {"outcome": "ok"} if not result.is_err else {}
        self._finish(message, extra, result.error if result.is_err else None)

    def _finish(
        self, message: TaskiqMessage, extra: dict[str, Any], error: BaseException | None
    ) -> None:
        run = self._runs.pop(id(message), {"started": time.perf_counter(), "outcome": "failed"})
        run.update(extra)
        self.running.discard(run.get("task"))
        attempt, _ = self._attempt(message)
        fields: dict[str, Any] = {
            "outcome": run["outcome"],
            "attempt": attempt,
            "duration_ms": round((time.perf_counter() - run["started"]) * 1000, 1),
            **_ids(message),
        }
        if "retry_in_s" in run:
            fields["retry_in_s"] = run["retry_in_s"]
        if error is not None:
            fields["error"] = type(error).__name__
        level = {"ok": log.info, "retrying": log.warning}.get(fields["outcome"], log.error)
        level("task_done", **fields)
