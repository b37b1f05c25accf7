"""E-mail infrastructure: delivery (SMTP or the outbox), templates, and the queue seam.

Services call `enqueue(name, job, ...)` on the request path and `send(...)` inside jobs.
"""

from app.email.delivery import DeliveryFailed, effect_key, job_context, render, send
from app.email.queue import drain, enqueue, enqueue_once

__all__ = [
    "DeliveryFailed",
    "drain",
    "effect_key",
    "enqueue",
    "enqueue_once",
    "job_context",
    "render",
    "send",
]
