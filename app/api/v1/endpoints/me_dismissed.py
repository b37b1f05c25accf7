"""The caller's dismissed items: never shown again in alerts, digests or recommendations."""

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from app.api.deps import SignedInViewer
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.dismissal import (
    DismissalPage,
    DismissalQuery,
    DismissalRead,
    DismissRequest,
    ItemKind,
)
from app.services import dismissals

router = APIRouter(
    prefix="/me/dismissed", tags=["me"], responses=error_responses(401), route_class=StrictRoute
)


@router.get("", operation_id="me_dismissed_list")
async def list_dismissed(
    who: SignedInViewer, query: Annotated[DismissalQuery, Query()]
) -> DismissalPage:
    """What you dismissed, most recent first."""
    items, cursor, total = await dismissals.list_mine(who, query.kind, query.page)
    return DismissalPage(
        items=[DismissalRead.from_doc(d) for d in items], next_cursor=cursor, total=total
    )


@router.put(
    "/{kind}/{item_id}",
    operation_id="me_dismissed_put",
    responses=error_responses(404, 422),
)
async def dismiss(
    who: SignedInViewer,
    kind: ItemKind,
    item_id: str,
    body: Annotated[DismissRequest | None, Body()] = None,
) -> DismissalRead:
    """Dismiss an item you can see (by id or slug), with an optional reason. Dismissing again
    updates the reason; the item never reappears in your alerts, digests or recommendations."""
    request = body or DismissRequest()
    return DismissalRead.from_doc(
        await dismissals.dismiss(who, kind, item_id, request.reason, request.note)
    )


@router.delete(
    "/{kind}/{item_id}",
    operation_id="me_dismissed_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404),
)
async def undismiss(who: SignedInViewer, kind: ItemKind, item_id: str) -> Response:
    """Take a dismissal back (by item id)."""
    await dismissals.undismiss(who, kind, item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
