"""Business profiles."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import CurrentUser, IfMatch, OptionalUser, PathKey
from app.api.http import set_created, set_etag
from app.api.openapi_contract import SENDS_ETAG
from app.api.routing import StrictRoute
from app.api.v1.endpoints.attachments import add_attach_route
from app.models.media import MediaOwnerKind
from app.schemas.common import error_responses
from app.schemas.profile import ProfilePage, ProfilePatch, ProfileQuery, ProfileRead, ProfileWrite
from app.services import profiles as profile_service

router = APIRouter(prefix="/profiles", tags=["profiles"], route_class=StrictRoute)


@router.get(
    "/me",
    operation_id="profiles_me_get",
    responses=error_responses(401, 404, codes={404: ["PROFILE_NOT_FOUND"]}),
    openapi_extra=SENDS_ETAG,
)
async def get_mine(principal: CurrentUser, response: Response) -> ProfileRead:
    """Your own profile, every field (demographics included); 404 until you create it."""
    profile = await profile_service.get_mine(principal)
    set_etag(response, profile.version)
    return ProfileRead.from_doc(profile, private_view=True)


@router.put(
    "/me",
    operation_id="profiles_me_put",
    responses={
        201: {"model": ProfileRead, "description": "Created"},
        **error_responses(
            401, 409, 412, 422, codes={409: ["PROFILE_EXISTS"], 422: ["UNKNOWN_REFERENCE"]}
        ),
    },
    openapi_extra=SENDS_ETAG,
)
async def put_mine(
    principal: CurrentUser, body: ProfileWrite, response: Response, if_match: IfMatch
) -> ProfileRead:
    """Create (201) or replace (200) the caller's profile."""
    profile, created = await profile_service.put_mine(principal, body, if_match)
    if created:
        response.status_code = status.HTTP_201_CREATED
        set_created(response, f"/api/v1/profiles/{profile.id}")
    set_etag(response, profile.version)
    return ProfileRead.from_doc(profile, private_view=True)


@router.patch(
    "/me",
    operation_id="profiles_me_patch",
    responses=error_responses(
        401, 404, 412, 422, codes={404: ["PROFILE_NOT_FOUND"], 422: ["UNKNOWN_REFERENCE"]}
    ),
    openapi_extra=SENDS_ETAG,
)
async def patch_mine(
    principal: CurrentUser, body: ProfilePatch, response: Response, if_match: IfMatch
) -> ProfileRead:
    """Change some fields of your profile; send `If-Match` with the ETag you read (a stale
    one is a 412)."""
    profile = await profile_service.patch_mine(principal, body, if_match)
    set_etag(response, profile.version)
    return ProfileRead.from_doc(profile, private_view=True)


add_attach_route(
    router,
    "/me/avatar",
    MediaOwnerKind.profile,
    param=None,
    operation_id="profiles_me_avatar_set",
    summary="Set Avatar",
    description="Upload and attach an avatar; the previous one is deleted. Visible to whoever "
    "may see the profile.",
    codes={404: ["PROFILE_NOT_FOUND"]},
)


@router.get(
    "",
    operation_id="profiles_list",
    responses=error_responses(422, codes={422: ["UNKNOWN_REFERENCE"]}),
)
async def list_profiles(
    principal: OptionalUser, query: Annotated[ProfileQuery, Query()]
) -> ProfilePage:
    """Public profiles (and members-only ones for signed-in users); `industry` must be an
    active industry slug."""
    items, cursor, total = await profile_service.list_profiles(principal, query)
    return ProfilePage(
        items=[
            ProfileRead.from_doc(p, private_view=profile_service.private_view(principal, p))
            for p in items
        ],
        next_cursor=cursor,
        total=total,
    )


@router.get(
    "/{profile_id}",
    operation_id="profiles_get",
    responses=error_responses(404),
    openapi_extra=SENDS_ETAG,
)
async def get_profile(
    principal: OptionalUser, profile_id: PathKey, response: Response
) -> ProfileRead:
    """A profile you may see: public ones, members-only ones when signed in, your own."""
    profile = await profile_service.get(principal, profile_id)
    set_etag(response, profile.version)
    return ProfileRead.from_doc(
        profile, private_view=profile_service.private_view(principal, profile)
    )
