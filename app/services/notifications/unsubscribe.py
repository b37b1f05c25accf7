"""One-click unsubscribe (RFC 8058). Every notification e-mail carries a token scoped to ONE
thing — a category's e-mail, a saved search's alerts, or digests — in its footer link and
in `List-Unsubscribe` (with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`). `GET`
only describes what the token would do (mail scanners follow links); `POST` does it.
Account security e-mail has no token: it cannot be switched off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from beanie import PydanticObjectId

from app.core.config import Settings
from app.core.exceptions import ValidationFailed
from app.core.signing import BadSignature, sign, verify
from app.models.notification import CATEGORIES, Category
from app.models.preferences import NotificationPreferences
from app.models.saved_search import SavedSearch
from app.services.notifications import preferences

PURPOSE = "unsubscribe"
Scope = Literal["category", "saved_search", "digest"]


@dataclass(frozen=True, slots=True)
class Target:
    user_id: PydanticObjectId
    scope: Scope
    category: Category | None = None
    search_id: PydanticObjectId | None = None


def token_for_category(
    settings: Settings, user_id: PydanticObjectId, category: Category
) -> str | None:
    if category in preferences.LOCKED:
        return None
    return sign(settings, PURPOSE, {"u": str(user_id), "c": category})


def token_for_search(settings: Settings, user_id: PydanticObjectId, search_id: str) -> str:
    return sign(settings, PURPOSE, {"u": str(user_id), "s": search_id})


def token_for_digest(settings: Settings, user_id: PydanticObjectId) -> str:
    return sign(settings, PURPOSE, {"u": str(user_id), "d": 1})


def links(settings: Settings, token: str) -> tuple[str, dict[str, str]]:
    """The footer link (the app's page, which shows what GET says and offers the button)
    and the RFC 8058 headers (the API's POST, which mail clients call with one click)."""
    api = f"{settings.public_base_url}/api/v1/unsubscribe?token={token}"
    page = f"{settings.frontend_url}/unsubscribe?token={token}"
    return page, {
        "List-Unsubscribe": f"<{api}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _invalid() -> ValidationFailed:
    return ValidationFailed(
        "The unsubscribe link is invalid.",
        code="INVALID_UNSUBSCRIBE_TOKEN",
        details=[{"loc": ["query", "token"], "msg": "invalid token", "type": "value_error"}],
    )


def read(settings: Settings, token: str) -> Target:
    try:
        payload = verify(settings, PURPOSE, token)
        user_id = PydanticObjectId(payload["u"])
        if "c" in payload and payload["c"] in CATEGORIES and payload["c"] not in preferences.LOCKED:
            return Target(user_id, "category", category=payload["c"])
        if "s" in payload:
            return Target(user_id, "saved_search", search_id=PydanticObjectId(payload["s"]))
        if payload.get("d") == 1:
            return Target(user_id, "digest")
    except (BadSignature, KeyError, TypeError, ValueError):
        pass
    raise _invalid()


async def describe(target: Target) -> str | None:
    """The saved search's name, for the preview (None when it is gone)."""
    if target.search_id is None:
        return None
    search = await SavedSearch.find_one({"_id": target.search_id, "user_id": target.user_id})
    return search.name if search else None


async def apply(target: Target) -> None:
    """Switch the e-mail off (idempotent). Nothing else changes."""
    if target.scope == "category" and target.category is not None:
        await preferences.switch_off_email(target.user_id, target.category)
    elif target.scope == "saved_search" and target.search_id is not None:
        from app.services.saved_searches import service as saved_searches

        await saved_searches.stop_alerts(target.user_id, target.search_id)
    elif target.scope == "digest":
        prefs = await preferences.get(target.user_id)
        for category, channels in prefs.channels.items():
            if channels.email in ("daily", "weekly"):
                await preferences.switch_off_email(target.user_id, category)  # type: ignore[arg-type]


__all__ = ["NotificationPreferences", "Target", "apply", "describe", "links", "read"]
