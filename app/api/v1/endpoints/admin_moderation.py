"""Staff and admins: the moderation queue."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api.deps import PageDep, StaffUser
from app.api.routing import StrictRoute
from app.schemas.admin import ModerationItem, ModerationPage
from app.schemas.catalogue import RevisionRead
from app.services import moderation

router = APIRouter(prefix="/moderation", tags=["admin"], route_class=StrictRoute)


@router.get("", operation_id="admin_moderation_list", response_model=ModerationPage)
async def moderation_queue(
    _: StaffUser,
    page: PageDep,
    kind: Annotated[Literal["opportunity", "event"] | None, Query()] = None,
    moderation_: Annotated[
        Literal["review", "revision"] | None,
        Query(alias="moderation", description="Only new items (review) or only edits (revision)."),
    ] = None,
) -> ModerationPage:
    """Items pending review and pending revisions (with their field-level diff), oldest
    first. Decide with the items' own routes, sending `version` as If-Match."""
    entries, cursor, total = await moderation.queue(kind, moderation_, page)
    items = [
        ModerationItem(
            kind=e.kind,
            moderation=e.stage,
            id=str(e.item.id),
            title=e.item.title,
            organisation_name=e.item.organisation_name,
            status=e.item.status,
            version=e.item.version,
            submitted_at=e.submitted_at,
            revision=RevisionRead.of(e.item) if e.stage == "revision" else None,
        )
        for e in entries
    ]
    return ModerationPage(items=items, next_cursor=cursor, total=total)
