"""What each notification e-mail says: the template, subject and values for one notification
or a digest of several, with the reason the user gets it and the one-click unsubscribe."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.core.config import Settings
from app.models.notification import Notification
from app.models.user import User


@dataclass(slots=True)
class Mail:
    subject: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)


def _entry(doc: Notification) -> dict[str, Any]:
    return {
        "title": doc.title,
        "body": doc.body,
        "link": doc.link,
        "category": doc.category,
        "changes": [c.model_dump() for c in doc.changes],
        "reason": doc.reason.label,
    }


async def for_notification(settings: Settings, user: User, doc: Notification) -> Mail:
    return Mail(
        subject=doc.title,
        template=doc.template,
        context={"full_name": user.full_name, **_entry(doc), **doc.context},
    )


async def for_digest(settings: Settings, user: User, items: list[Notification]) -> Mail:
    return Mail(
        subject=f"Your RunWei digest: {len(items)} update{'s' if len(items) != 1 else ''}",
        template="digest",
        context={"full_name": user.full_name, "entries": [_entry(n) for n in items]},
    )
