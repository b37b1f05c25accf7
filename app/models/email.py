"""Outgoing e-mail kept in a collection when no SMTP server is configured (development, tests)."""

from __future__ import annotations

import uuid
from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import IndexModel

from app.models.base import utcnow


class OutboxEmail(Document):
    to: str
    subject: str
    body: str
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
