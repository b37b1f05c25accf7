"""Organisations, their members and the invitations that make members."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import CurrentUser, IfMatch, OptionalUser, PathKey, SettingsDep
from app.api.http import set_created, set_etag
from app.api.openapi_contract import SENDS_ETAG
from app.api.routing import StrictRoute
from app.api.v1.endpoints.attachments import add_attach_route
from app.models.media import MediaOwnerKind
from app.models.organisation import Organisation
from app.schemas.common import error_responses
from app.schemas.invitation import (
    InvitationCreate,
    InvitationPage,
    InvitationQuery,
    InvitationRead,
    MemberRoleUpdate,
)
from app.schemas.organisation import (
    OrganisationCreate,
    OrganisationPage,
    OrganisationQuery,
    OrganisationRead,
    OrganisationUpdate,
)
from app.services import invitations as invitation_service
from app.services import memberships as membership_service
from app.services import organisations as org_service
from app.services.auth import Principal
from app.services.capabilities import Action, denial_codes

router = APIRouter(prefix="/organisations", tags=["organisations"], route_class=StrictRoute)


def _read(principal: Principal | None, org: Organisation) -> OrganisationRead:
    return OrganisationRead.from_doc(org, show_members=org_service.shows_members(principal, org))


@router.get("", operation_id="organisations_list")
async def list_organisations(
    principal: OptionalUser, query: Annotated[OrganisationQuery, Query()]
) -> OrganisationPage:
    """Active organisations (staff also see archived ones), filtered and paged."""
    items, cursor, total = await org_service.list_organisations(principal, query)
    return OrganisationPage(
        items=[_read(principal, o) for o in items], next_cursor=cursor, total=total
    )


@router.post(
    "",
    operation_id="organisations_create",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        401, 403, 409, codes={403: denial_codes(Action.org_create), 409: ["SLUG_TAKEN"]}
    ),
    openapi_extra=SENDS_ETAG,
)
async def create(
    principal: CurrentUser, body: OrganisationCreate, response: Response
) -> OrganisationRead:
    """Partners, staff and admins; the creator becomes its owner."""
    org = await org_service.create(principal, body)
    set_created(response, f"/api/v1/organisations/{org.id}", org.version)
    return _read(principal, org)


@router.get(
    "/{organisation_id}",
    operation_id="organisations_get",
    responses=error_responses(404),
    openapi_extra=SENDS_ETAG,
)
async def get(
    principal: OptionalUser, organisation_id: PathKey, response: Response
) -> OrganisationRead:
    """By id or slug."""
    org = await org_service.get(principal, organisation_id)
    set_etag(response, org.version)
    return _read(principal, org)


@router.patch(
    "/{organisation_id}",
    operation_id="organisations_update",
    responses=error_responses(401, 403, 404, 412, codes={403: denial_codes(Action.org_edit)}),
    openapi_extra=SENDS_ETAG,
)
async def update(
    principal: CurrentUser,
    organisation_id: PathKey,
    body: OrganisationUpdate,
    response: Response,
    if_match: IfMatch,
) -> OrganisationRead:
    """Members with the editor role or above (and staff); send `If-Match` with the ETag
    you read (a stale one is a 412)."""
    org = await org_service.update(principal, organisation_id, body, if_match)
    set_etag(response, org.version)
    return _read(principal, org)


@router.delete(
    "/{organisation_id}",
    operation_id="organisations_archive",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, codes={403: denial_codes(Action.org_archive)}),
)
async def archive(principal: CurrentUser, organisation_id: PathKey) -> None:
    """Soft delete (owners, staff, admins)."""
    await org_service.set_archived(principal, organisation_id, True)


@router.post(
    "/{organisation_id}/restore",
    operation_id="organisations_restore",
    responses=error_responses(401, 403, 404, codes={403: denial_codes(Action.org_restore)}),
)
async def restore(principal: CurrentUser, organisation_id: PathKey) -> OrganisationRead:
    """Bring an archived organisation back (staff)."""
    return _read(principal, await org_service.set_archived(principal, organisation_id, False))


@router.delete(
    "/{organisation_id}/members/{user_id}",
    operation_id="organisations_members_remove",
    responses=error_responses(
        401,
        403,
        404,
        409,
        codes={
            403: denial_codes(Action.member_remove, Action.member_leave),
            404: ["ORGANISATION_NOT_FOUND", "MEMBER_NOT_FOUND"],
            409: ["LAST_OWNER", "CONCURRENT_CHANGE"],
        },
    ),
)
async def remove_member(
    principal: CurrentUser, organisation_id: PathKey, user_id: PathKey
) -> OrganisationRead:
    """Owners remove members; any member may leave (pass your own id). Never the last owner."""
    return _read(
        principal, await membership_service.remove_member(principal, organisation_id, user_id)
    )


@router.patch(
    "/{organisation_id}/members/{user_id}",
    operation_id="organisations_members_update",
    responses=error_responses(
        401,
        403,
        404,
        409,
        codes={
            403: denial_codes(Action.member_demote),
            404: ["ORGANISATION_NOT_FOUND", "MEMBER_NOT_FOUND"],
            409: ["LAST_OWNER", "OWNER_NEEDS_INVITATION", "CONCURRENT_CHANGE"],
        },
    ),
)
async def change_member_role(
    principal: CurrentUser, organisation_id: PathKey, user_id: PathKey, body: MemberRoleUpdate
) -> OrganisationRead:
    """Owners demote an owner to editor (never the last owner). Making someone an owner is
    an invitation they accept (`OWNER_NEEDS_INVITATION` otherwise)."""
    org = await membership_service.change_role(principal, organisation_id, user_id, body)
    return _read(principal, org)


add_attach_route(
    router,
    "/{organisation_id}/logo",
    MediaOwnerKind.organisation,
    param="organisation_id",
    operation_id="organisations_logo_set",
    summary="Set Logo",
    description="Organisation members; the previous logo is deleted.",
    codes={403: denial_codes(Action.org_upload_logo), 404: ["ORGANISATION_NOT_FOUND"]},
)


# --- invitations: the only way in -----------------------------------------------------------


@router.post(
    "/{organisation_id}/invitations",
    operation_id="organisations_invitations_create",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        401,
        403,
        404,
        409,
        429,
        codes={
            403: denial_codes(Action.member_invite),
            409: ["INVITATION_PENDING", "ORGANISATION_ARCHIVED"],
            429: ["INVITATION_LIMIT"],
        },
    ),
)
async def invite(
    principal: CurrentUser,
    organisation_id: PathKey,
    body: InvitationCreate,
    settings: SettingsDep,
    response: Response,
) -> InvitationRead:
    """Owners invite an e-mail address (with a role). The answer is the same whether or not
    an account uses the address; the address gets an e-mail either way, and the person
    becomes a member only by accepting at `/me/invitations`."""
    inv = await invitation_service.invite(settings, principal, organisation_id, body)
    set_created(response, f"/api/v1/organisations/{inv.organisation_id}/invitations/{inv.id}")
    return InvitationRead.from_doc(inv)


@router.get(
    "/{organisation_id}/invitations",
    operation_id="organisations_invitations_list",
    responses=error_responses(401, 403, 404, codes={403: denial_codes(Action.invitation_list)}),
)
async def list_invitations(
    principal: CurrentUser,
    organisation_id: PathKey,
    query: Annotated[InvitationQuery, Query()],
) -> InvitationPage:
    """Owners; newest first (pending ones by default)."""
    items, cursor, total = await invitation_service.list_for_organisation(
        principal, organisation_id, query
    )
    return InvitationPage(
        items=[InvitationRead.from_doc(i) for i in items], next_cursor=cursor, total=total
    )


@router.get(
    "/{organisation_id}/invitations/{invitation_id}",
    operation_id="organisations_invitations_get",
    responses=error_responses(401, 403, 404, codes={403: denial_codes(Action.invitation_list)}),
)
async def get_invitation(
    principal: CurrentUser, organisation_id: PathKey, invitation_id: PathKey
) -> InvitationRead:
    """One invitation of the organisation, whatever its status (owners)."""
    inv = await invitation_service.get_for_organisation(principal, organisation_id, invitation_id)
    return InvitationRead.from_doc(inv)


@router.delete(
    "/{organisation_id}/invitations/{invitation_id}",
    operation_id="organisations_invitations_revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(
        401,
        403,
        404,
        409,
        codes={
            403: denial_codes(Action.invitation_revoke),
            409: ["INVITATION_NOT_PENDING", "INVITATION_EXPIRED"],
        },
    ),
)
async def revoke_invitation(
    principal: CurrentUser, organisation_id: PathKey, invitation_id: PathKey
) -> None:
    """Owners withdraw a pending invitation (revoking twice is harmless)."""
    await invitation_service.revoke(principal, organisation_id, invitation_id)
