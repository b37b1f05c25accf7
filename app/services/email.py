"""The one e-mail service: SMTP when configured, otherwise the outbox collection.

Mail never goes out on the request path. A request calls `enqueue(job, ...)`; the job (which
looks up what it needs, issues tokens and calls `send`) runs as a task on the task engine
(`app/tasks/email.py`: the worker, or in-process without REDIS_URL), so a response looks and
takes the same whether or not mail was sent. Jobs are module-level functions taking plain
arguments (addresses, ids, the settings). Inside a job, `send` is idempotent per message
key: a retried or redelivered job does not mail twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ParamSpec

import aiosmtplib
import structlog
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.core.config import Settings
from app.models.email import OutboxEmail
from app.tasks import effects

log = structlog.get_logger("app.email")

P = ParamSpec("P")

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates" / "email"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html"]),  # our .txt templates are plain text
)


def render(template: str, context: dict[str, Any]) -> str:
    return _templates.get_template(f"{template}.txt").render(**context)


class DeliveryFailed(Exception):
    """The mail relay refused or was unreachable: the job fails and is retried."""


async def _deliver_smtp(settings: Settings, message: EmailMessage, template: str) -> None:
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_starttls,
            timeout=15,
        )
        log.info("email_sent", template=template)
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.error("email_failed", template=template, error=type(exc).__name__)
        raise DeliveryFailed(type(exc).__name__) from None  # the reply may quote secrets


@dataclass(slots=True)
class _Job:
    key: str
    sent: int = 0


_job: ContextVar[_Job | None] = ContextVar("email_job", default=None)


@contextmanager
def job_context(key: str) -> Iterator[None]:
    """E-mails sent inside are keyed by `key` (then `key:2`, `key:3`… for more than one)."""
    token = _job.set(_Job(key))
    try:
        yield
    finally:
        _job.reset(token)


def effect_key(message_key: str) -> str:
    return f"email:{message_key}"


def _next_message_key() -> str:
    job = _job.get()
    if job is None:  # sent outside a job (a script): a fresh key
        return uuid.uuid4().hex
    job.sent += 1
    return job.key if job.sent == 1 else f"{job.key}:{job.sent}"


async def send(settings: Settings, to: str, subject: str, template: str, **context: Any) -> None:
    """Deliver a templated plain-text e-mail now (jobs call this; requests call `enqueue`),
    once per message key. Never logs the body: it carries secrets."""
    body = render(template, context)
    key = _next_message_key()
    if settings.smtp_host:
        message = EmailMessage()
        message["From"] = settings.email_from
        message["To"] = to
        message["Subject"] = subject
        # Stable across retries: if a crash makes us send twice, mailboxes fold the copies.
        message["Message-ID"] = f"<{key}@{settings.jwt_issuer}>"
        message.set_content(body)

        async def deliver() -> None:
            await _deliver_smtp(settings, message, template)

    else:

        async def deliver() -> None:
            outbox = OutboxEmail(
                to=to, subject=subject, body=body, template=template, message_key=key
            )
            if await effects.insert_once(outbox):
                log.info("email_queued_to_outbox", template=template, note="no SMTP_HOST")

    if await effects.run_once(effect_key(key), deliver) is not effects.Outcome.PERFORMED:
        log.info("email_already_sent", template=template)


async def enqueue(
    name: str, job: Callable[P, Awaitable[None]], *args: P.args, **kwargs: P.kwargs
) -> None:
    """Run an e-mail job off the request path (on the worker). Outside a running app
    (scripts), run it now."""
    from app.tasks import email as email_tasks  # the task module imports this one

    await email_tasks.enqueue(None, name, job, *args, **kwargs)


async def enqueue_once(
    key: str, name: str, job: Callable[P, Awaitable[None]], *args: P.args, **kwargs: P.kwargs
) -> None:
    """Like `enqueue` with a message key of the caller's (e.g. `digest:<user>:<period>`):
    however often it is enqueued, the e-mail goes out once."""
    from app.tasks import email as email_tasks

    await email_tasks.enqueue(key, name, job, *args, **kwargs)


async def drain() -> None:
    """Wait for every queued task of the running app (tests read the outbox after)."""
    from app.tasks.runtime import current

    runtime = current()
    if runtime is not None:
        await runtime.drain()
