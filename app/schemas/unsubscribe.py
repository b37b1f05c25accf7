"""One-click unsubscribe and e-mail template previews."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.models.notification import Category


class UnsubscribeRead(BaseModel):
    scope: Literal["category", "saved_search", "digest"] = Field(
        description="What the link switches off: one category's e-mail, one saved search's "
        "alerts, or digests."
    )
    category: Category | None = None
    saved_search_id: str | None = None
    saved_search_name: str | None = None
    unsubscribed: bool = Field(description="False for GET (a preview), true once POSTed.")


class EmailPreview(BaseModel):
    name: str
    subject: str
    text: str
    html: str | None
