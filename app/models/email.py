"""Outgoing e-mail kept in a collection when no SMTP server is configured (development, tests)."""

from __future__ import annotations

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
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "email_outbox"
        indexes = [IndexModel([("to", 1), ("created_at", -1)], name="to_created")]
