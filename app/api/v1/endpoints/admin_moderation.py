"""Staff and admins: the moderation queue."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api.deps import PageDep, StaffUser
from app.api.routing import StrictRoute
from app.schemas.admin import ModerationPage
from app.services import moderation

router = APIRouter(prefix="/moderation", tags=["admin"], route_class=StrictRoute)


@router.get("", operation_id="admin_moderation_list", response_model=ModerationPage)
async def moderation_queue(
    _: StaffUser,
    page: PageDep,
    kind: Annotated[Literal["opportunity", "event"] | None, Query()] = None,
) -> ModerationPage:
    """Items pending review, oldest first. Approve or reject them with the items' own routes."""
    items, cursor, total = await moderation.queue(kind, page)
    return ModerationPage(items=items, next_cursor=cursor, total=total)
