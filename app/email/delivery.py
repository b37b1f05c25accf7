"""Delivery: render a template and send it by SMTP when configured, otherwise into the
outbox collection (the embedded default). Inside a job, `send` is idempotent per message
key: a retried or redelivered job does not mail twice.

Every template has a plain-text part (`name.txt`) and, when `name.html` exists, an HTML
part: one layout (`layout.html`), its stylesheet inlined into `style` attributes by
css-inline (mail clients drop `<style>`). Headers (List-Unsubscribe…) and attachments (an
event's `.ics`) travel with the message."""

from __future__ import annotations

import email.policy
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib
import css_inline
import structlog
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from app.core.config import Settings
from app.models.email import OutboxAttachment, OutboxEmail
from app.tasks import effects

log = structlog.get_logger("app.email")

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates" / "email"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html"]),  # our .txt templates are plain text
)
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)
_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def render(template: str, context: dict[str, Any]) -> str:
    return _templates.get_template(f"{template}.txt").render(**context)


def render_html(template: str, context: dict[str, Any]) -> str | None:
    """The HTML part with its CSS inlined, or None for a text-only template."""
    try:
        html = _templates.get_template(f"{template}.html").render(**context)
    except TemplateNotFound:
        return None
    return str(_inliner.inline(html))


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar"
    content: bytes


class DeliveryFailed(Exception):
    """The mail relay refused or was unreachable: the job fails and is retried."""


async def _deliver_smtp(settings: Settings, message: EmailMessage, template: str) -> None:
    # Flattened here with our policy: aiosmtplib would re-fold headers at 78 columns.
    raw = message.as_bytes(policy=MAIL_POLICY.clone(linesep="\r\n"))
    sender = parseaddr(str(message["From"]))[1]
    try:
        await aiosmtplib.send(
            raw,
            sender=sender,
            recipients=[parseaddr(str(message["To"]))[1]],
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
    """Deliver a templated e-mail now (jobs call this; requests call `enqueue`), once per
    message key. Never logs the body: it carries secrets."""
    await send_message(settings, to, subject, template, context)


async def send_message(
    settings: Settings,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    attachments: list[Attachment] | None = None,
) -> None:
    """`send` with extra headers and attachments."""
    subject = " ".join(subject.split())  # no line breaks into a header
    context = {"app_name": "RunWei", "frontend_url": settings.frontend_url, **context}
    body = render(template, context)
    html = render_html(template, context)
    headers = dict(headers or {})
    attachments = list(attachments or [])
    key = _next_message_key()
    if settings.smtp_host:
        # Lines up to RFC 5322's 998: a 78-column policy would RFC 2047-encode a long
        # List-Unsubscribe URL into something no mail client can follow.
        message = EmailMessage(policy=MAIL_POLICY)
        message["From"] = settings.email_from
        message["To"] = to
        message["Subject"] = subject
        # Stable across retries: if a crash makes us send twice, mailboxes fold the copies.
        message["Message-ID"] = f"<{key}@{settings.jwt_issuer}>"
        for name, value in headers.items():
            message[name] = value
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
        for item in attachments:
            maintype, _, subtype = item.content_type.partition("/")
            message.add_attachment(
                item.content, maintype=maintype, subtype=subtype, filename=item.filename
            )

        async def deliver() -> None:
            await _deliver_smtp(settings, message, template)

    else:

        async def deliver() -> None:
            outbox = OutboxEmail(
                to=to,
                subject=subject,
                body=body,
                html=html,
                headers=headers,
                attachments=[
                    OutboxAttachment(
                        filename=a.filename,
                        content_type=a.content_type,
                        content=a.content.decode("utf-8", errors="replace"),
                    )
                    for a in attachments
                ],
                template=template,
                message_key=key,
            )
            if await effects.insert_once(outbox):
                log.info("email_queued_to_outbox", template=template, note="no SMTP_HOST")

    if await effects.run_once(effect_key(key), deliver) is not effects.Outcome.PERFORMED:
        log.info("email_already_sent", template=template)
