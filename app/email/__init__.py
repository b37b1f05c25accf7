"""E-mail infrastructure: delivery (SMTP or the outbox), templates, and the queue seam.

Services call `enqueue(name, job, ...)` on the request path and `send(...)` inside jobs.
"""

from app.email.delivery import (
    Attachment,
    DeliveryFailed,
    effect_key,
    job_context,
    render,
    render_html,
    send,
    send_message,
)
from app.email.queue import drain, enqueue, enqueue_once

__all__ = [
    "Attachment",
    "DeliveryFailed",
    "drain",
    "effect_key",
    "enqueue",
    "enqueue_once",
    "job_context",
    "render",
    "render_html",
    "send",
    "send_message",
]
