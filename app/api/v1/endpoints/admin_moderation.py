"""Staff and admins: the moderation queue."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import StaffDep
from app.api.routing import StrictRoute
from app.schemas.admin import ModerationItem, ModerationPage, ModerationQuery
from app.services import moderation

router = APIRouter(prefix="/moderation", tags=["admin"], route_class=StrictRoute)


@router.get("", operation_id="admin_moderation_list")
async def moderation_queue(
    _: StaffDep, query: Annotated[ModerationQuery, Query()]
) -> ModerationPage:
    """Items pending review and pending revisions (with their field-level diff), oldest
    first. Decide with the items' own routes, sending `version` as If-Match."""
    entries, cursor, total = await moderation.queue(query)
    items = [ModerationItem.from_entry(e) for e in entries]
    return ModerationPage(items=items, next_cursor=cursor, total=total)
