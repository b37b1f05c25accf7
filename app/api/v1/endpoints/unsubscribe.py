"""One-click unsubscribe from e-mail (RFC 8058), by a signed token, without logging in."""

from typing import Annotated

from fastapi import APIRouter, Form, Query

from app.api.deps import SettingsDep
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.unsubscribe import UnsubscribeRead
from app.services.notifications import unsubscribe

router = APIRouter(prefix="/unsubscribe", tags=["notifications"], route_class=StrictRoute)

Token = Annotated[str, Query(min_length=10, max_length=512, description="From the e-mail.")]


@router.get("", operation_id="unsubscribe_preview", responses=error_responses(422))
async def preview(settings: SettingsDep, token: Token) -> UnsubscribeRead:
    """What the link would switch off. Never unsubscribes (mail scanners follow links)."""
    target = unsubscribe.read(settings, token)
    return UnsubscribeRead(
        scope=target.scope,
        category=target.category,
        saved_search_id=str(target.search_id) if target.search_id else None,
        saved_search_name=await unsubscribe.describe(target),
        unsubscribed=False,
    )


@router.post("", operation_id="unsubscribe_confirm", responses=error_responses(415, 422))
async def confirm(
    settings: SettingsDep,
    token: Token,
    list_unsubscribe: Annotated[
        str | None, Form(alias="List-Unsubscribe", max_length=20, description="`One-Click`")
    ] = None,
) -> UnsubscribeRead:
    """Switch it off (what mail clients POST with `List-Unsubscribe=One-Click`; idempotent)."""
    target = unsubscribe.read(settings, token)
    await unsubscribe.apply(target)
    return UnsubscribeRead(
        scope=target.scope,
        category=target.category,
        saved_search_id=str(target.search_id) if target.search_id else None,
        saved_search_name=await unsubscribe.describe(target),
        unsubscribed=True,
    )
