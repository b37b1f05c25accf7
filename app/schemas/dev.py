"""Development-only schemas: the e-mail outbox as a frontend developer reads it."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field

from app.core.pagination import Page
from app.models.email import OutboxEmail
from app.schemas.query import PageQuery
from app.schemas.validators import Email

_LINK = re.compile(r"https?://[^\s<>\"']+")


class OutboxQuery(PageQuery):
    to: Email | None = Field(default=None, description="Only mail to this address.")


class OutboxRead(BaseModel):
    id: str
    to: str
    subject: str
    template: str
    body: str
    links: list[str] = Field(description="The links in the body, in order (verify, reset…).")
    created_at: datetime

    @classmethod
    def from_doc(cls, mail: OutboxEmail) -> OutboxRead:
        return cls(
            id=str(mail.id),
            to=mail.to,
            subject=mail.subject,
            template=mail.template,
            body=mail.body,
            links=_LINK.findall(mail.body),
            created_at=mail.created_at,
        )


class OutboxPage(Page[OutboxRead]):
    """Newest first."""
