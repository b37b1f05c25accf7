"""Delivery: render a template and send it by SMTP when configured, otherwise into the
outbox collection (the embedded default)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import structlog
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.core.config import Settings
from app.models.email import OutboxEmail

log = structlog.get_logger("app.email")

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates" / "email"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html"]),  # our .txt templates are plain text
)


def render(template: str, context: dict[str, Any]) -> str:
    return _templates.get_template(f"{template}.txt").render(**context)


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


async def send(settings: Settings, to: str, subject: str, template: str, **context: Any) -> None:
    """Deliver a templated plain-text e-mail now (jobs call this; requests call `enqueue`).
    Never logs the body: it carries secrets."""
    body = render(template, context)
    if settings.smtp_host:
        message = EmailMessage()
        message["From"] = settings.email_from
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        await _deliver_smtp(settings, message, template)
        return
    await OutboxEmail(to=to, subject=subject, body=body, template=template).insert()
    log.info("email_queued_to_outbox", template=template, note="no SMTP_HOST; see email_outbox")
