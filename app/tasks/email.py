"""E-mail jobs on the task engine. `app.email.enqueue(name, job, *args)` lands here:
the job — a module-level async function such as `auth.send_verification` — travels as its
import path with JSON arguments (a `Settings` argument travels as a marker and becomes the
worker's own settings), and runs on the worker, never on the request path.

Each enqueued job has a message key. The job's e-mail is recorded under it (`email.send`
goes through `effects.run_once`, the outbox document carries it under a unique index), and
the job itself runs once per key — so a retried, duplicated or redelivered job neither sends
twice nor issues a second token that would retire the link already mailed.
"""

from __future__ import annotations

import importlib
import uuid
from typing import Any

import structlog
from taskiq.exceptions import SendTaskError

from app import email
from app.core.config import Settings
from app.tasks import effects, runtime
from app.tasks.middleware import PermanentTaskError
from app.tasks.registry import task

log = structlog.get_logger("app.email")

SETTINGS_MARKER = {"$settings": True}


def job_reference(job: Any) -> str:
    """`module:qualname` of a job, checked to import back to the same function."""
    reference = f"{getattr(job, '__module__', '')}:{getattr(job, '__qualname__', '')}"
    try:
        same = resolve(reference) is job
    except (ImportError, AttributeError, ValueError):
        same = False
    if not same:
        raise TypeError(
            f"e-mail job {reference!r} must be a module-level function: it runs on the worker"
        )
    return reference


def resolve(reference: str) -> Any:
    module_name, _, qualname = reference.partition(":")
    if not module_name or not qualname:
        raise ValueError(reference)
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def _encode(value: Any) -> Any:
    return SETTINGS_MARKER if isinstance(value, Settings) else value


def _decode(value: Any, settings: Settings) -> Any:
    return settings if value == SETTINGS_MARKER else value


@task("email.run_job")
async def run_job(key: str, job: str, target: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Run a job once per key. A duplicate delivered while it runs skips (the job holds the
    `emailjob:` ledger key); after it, or after a crash that followed the send, the
    `email:` key of its message is done and the job is not run again (no second token)."""
    if await effects.is_done(email.effect_key(key)):
        log.info("email_job_already_sent", job=job, key=key)
        return
    try:
        function = resolve(target)
    except (ImportError, AttributeError, ValueError) as exc:
        raise PermanentTaskError(f"unknown e-mail job {target}") from exc
    active = runtime.current()
    if active is None:  # pragma: no cover - the receiver only runs inside a runtime
        raise RuntimeError("no task runtime")
    settings = active.settings

    async def perform() -> None:
        with email.job_context(key):
            await function(
                *[_decode(a, settings) for a in args],
                **{k: _decode(v, settings) for k, v in kwargs.items()},
            )

    outcome = await effects.run_once(f"emailjob:{key}", perform)
    if outcome is not effects.Outcome.PERFORMED:
        log.info("email_job_skipped", job=job, key=key, reason=outcome.value)


async def enqueue(key: str | None, name: str, job: Any, *args: Any, **kwargs: Any) -> None:
    """Queue one e-mail job (see `app.email.enqueue`)."""
    key = key or uuid.uuid4().hex
    target = job_reference(job)
    if runtime.current() is None:  # a script, outside any app: do it now
        with email.job_context(key):
            await job(*args, **kwargs)
        return
    try:
        await run_job.kiq(
            key=key,
            job=name,
            target=target,
            args=[_encode(a) for a in args],
            kwargs={k: _encode(v) for k, v in kwargs.items()},
        )
    except SendTaskError as exc:
        # The broker is unreachable. The request that asked for the mail must not fail
        # half-way through (its own writes are done): the mail is lost and said so.
        log.error("email_enqueue_failed", job=name, key=key, error=type(exc.__cause__).__name__)
