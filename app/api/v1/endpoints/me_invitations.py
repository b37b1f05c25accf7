"""The caller's invitations to organisations: list, accept, decline."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CurrentUser, PathKey
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.invitation import InvitationPage, InvitationRead
from app.schemas.query import PageQuery
from app.services import invitations as invitation_service

router = APIRouter(
    prefix="/me/invitations",
    tags=["me"],
    responses=error_responses(401, 403, codes={403: ["EMAIL_NOT_VERIFIED"]}),
    route_class=StrictRoute,
)


@router.get("", operation_id="me_invitations_list")
async def my_invitations(
    principal: CurrentUser, query: Annotated[PageQuery, Query()]
) -> InvitationPage:
    """Pending invitations to your address (confirm it first: `EMAIL_NOT_VERIFIED`)."""
    items, cursor, total = await invitation_service.list_mine(principal, query)
    return InvitationPage(
        items=[InvitationRead.from_doc(i) for i in items], next_cursor=cursor, total=total
    )


@router.post(
    "/{invitation_id}/accept",
    operation_id="me_invitations_accept",
    responses=error_responses(
        404,
        409,
        codes={
            409: [
                "INVITATION_NOT_PENDING",
                "INVITATION_EXPIRED",
                "ALREADY_MEMBER",
                "ORGANISATION_ARCHIVED",
                "CONCURRENT_CHANGE",
            ]
        },
    ),
)
async def accept(principal: CurrentUser, invitation_id: PathKey) -> InvitationRead:
    """Join the organisation with the invited role. Accepting again is harmless."""
    return InvitationRead.from_doc(await invitation_service.accept(principal, invitation_id))


@router.post(
    "/{invitation_id}/decline",
    operation_id="me_invitations_decline",
    responses=error_responses(
        404, 409, codes={409: ["INVITATION_NOT_PENDING", "INVITATION_EXPIRED"]}
    ),
)
async def decline(principal: CurrentUser, invitation_id: PathKey) -> InvitationRead:
    """Say no; the organisation sees the invitation as declined."""
    return InvitationRead.from_doc(await invitation_service.decline(principal, invitation_id))
