"""Per-request context variables shared by logging, errors and audit."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
