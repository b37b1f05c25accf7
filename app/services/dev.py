"""Development-only reads: the e-mail outbox (the embedded default keeps mail there)."""

from __future__ import annotations

from typing import Any

from app.core.pagination import SortSpec, paginate
from app.models.email import OutboxEmail
from app.schemas.dev import OutboxQuery

NEWEST = SortSpec("newest", "created_at", -1)


async def outbox(query: OutboxQuery) -> tuple[list[OutboxEmail], str | None, int | None]:
    filters: dict[str, Any] = {"to": query.to} if query.to else {}
    return await paginate(OutboxEmail, filters, NEWEST, query.page)
