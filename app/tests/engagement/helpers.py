"""Helpers for the engagement tests: make notifications through the real `notify`."""

from __future__ import annotations

import itertools
from typing import Any

from beanie import PydanticObjectId

from app.email import drain
from app.models.email import OutboxEmail
from app.models.notification import Reason, Subject
from app.services.notifications import Draft, notify

API = "/api/v1"
_n = itertools.count(1)


def draft(category: str = "moderation", **fields: Any) -> Draft:
    n = next(_n)
    values: dict[str, Any] = {
        "category": category,
        "event": "test",
        "dedupe_key": f"test:{n}",
        "title": f"Something happened {n}",
        "subject": Subject(kind="account", id=None, title="Your account"),
        "reason": Reason(type="account", label="your account", preference=category),
    }
    values.update(fields)
    return Draft(**values)


async def give(user: Any, category: str = "moderation", **fields: Any) -> Any:
    return await notify(PydanticObjectId(user.id), draft(category, **fields))


async def outbox(to: str | None = None, template: str | None = None) -> list[OutboxEmail]:
    await drain()
    query: dict[str, Any] = {}
    if to:
        query["to"] = to
    if template:
        query["template"] = template
    return await OutboxEmail.find(query).sort("created_at").to_list()
