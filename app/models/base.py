"""Shared document pieces."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field


def iso_z(value: datetime) -> str:
    """The one datetime format outside JSON bodies too (CSV, error details): ISO 8601 in
    UTC with `Z`, exactly as pydantic writes datetimes in JSON."""
    value = value.astimezone(UTC)
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def utcnow() -> datetime:
    """MongoDB keeps milliseconds; truncate so what we return equals what we stored."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Timestamps(BaseModel):
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
