"""E-mail infrastructure: delivery (SMTP or the outbox), templates, and the queue seam.

Services call `enqueue(name, job, ...)` on the request path and `send(...)` inside jobs.
"""

from app.email.delivery import render, send
from app.email.queue import MailQueue, drain, enqueue, start_queue, stop_queue

__all__ = ["MailQueue", "drain", "enqueue", "render", "send", "start_queue", "stop_queue"]
