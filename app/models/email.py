"""Outgoing e-mail kept in a collection when no SMTP server is configured (development, tests)."""

from __future__ import annotations

import uuid
from datetime import datetime

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import IndexModel

from app.models.base import utcnow


class OutboxAttachment(BaseModel):
    filename: str
    content_type: str
    content: str  # text attachments only (an event's .ics)


class OutboxEmail(Document):
    to: str
    subject: str
    body: str  # the plain-text part
    html: str | None = None  # the HTML part, CSS inlined
    headers: dict[str, str] = Field(default_factory=dict)  # e.g. List-Unsubscribe
    attachments: list[OutboxAttachment] = Field(default_factory=list)
    template: str
    # One document per message, however often its job runs (documents from before the key
    # existed lack the field: the index is sparse).
    message_key: str = Field(default_factory=lambda: uuid.uuid4().hex)
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "email_outbox"
        indexes = [
            IndexModel([("to", 1), ("created_at", -1)], name="to_created"),
            IndexModel([("message_key", 1)], unique=True, sparse=True, name="message_key"),
        ]
