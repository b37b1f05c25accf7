"""Uploads: /media, plus the convenience routes that attach an upload to its owner."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse

from app.api.deps import CurrentUser, OptionalUser, SettingsDep
from app.api.http import set_created
from app.api.routing import StrictRoute
from app.api.uploads import read_upload
from app.core.config import Settings
from app.core.cpu_pool import CpuPool
from app.core.exceptions import ValidationFailed
from app.models.media import MediaOwnerKind, MediaPurpose
from app.schemas.common import error_responses
from app.schemas.media import FILE_ONLY_SCHEMA, UPLOAD_SCHEMA, MediaRead
from app.services import media as media_service
from app.services.auth import Principal
from app.services.media import AttachTarget, IncomingFile
from app.storage import Storage

router = APIRouter(tags=["media"], route_class=StrictRoute)
UPLOAD_ERRORS = error_responses(401, 403, 404, 413, 415, 422, 503)


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_media_pool(request: Request) -> CpuPool:
    pool: CpuPool = request.app.state.media_pool
    return pool


StorageDep = Annotated[Storage, Depends(get_storage)]
MediaPoolDep = Annotated[CpuPool, Depends(get_media_pool)]


async def _read(
    request: Request, settings: Settings, purpose: MediaPurpose | None
) -> tuple[dict[str, str], IncomingFile]:
    def limit(fields: dict[str, str]) -> int:
        return media_service.max_bytes(
            settings, purpose or media_service.purpose_from_fields(fields)
        )

    fields, upload = await read_upload(request, file_field="file", limit_for=limit)
    if upload is None:
        raise ValidationFailed(
            "The file is missing.",
            code="FILE_REQUIRED",
            details=[{"loc": ["body", "file"], "msg": "required"}],
        )
    return fields, IncomingFile(file=upload.file, size=upload.size, filename=upload.filename)


@router.post(
    "/media",
    operation_id="media_upload",
    response_model=MediaRead,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=UPLOAD_SCHEMA,
    responses=UPLOAD_ERRORS,
)
async def upload(
    request: Request,
    response: Response,
    principal: CurrentUser,
    settings: SettingsDep,
    storage: StorageDep,
    pool: MediaPoolDep,
) -> MediaRead:
    """Multipart `file` + `purpose` (avatar, organisation_logo, cover_image, attachment).
    The type is decided from the file's bytes; images are re-encoded without metadata
    (first frame only) under the purpose's pixel budget. Until attached to something, the
    file is visible to its uploader (and staff) only."""
    fields, incoming = await _read(request, settings, None)
    try:
        purpose = media_service.parse_purpose(fields.get("purpose"))
        media = await media_service.create(settings, storage, pool, principal, purpose, incoming)
        set_created(response, f"/api/v1/media/{media.id}")
        return MediaRead.from_doc(media)
    finally:
        incoming.file.close()


@router.get(
    "/media/{media_id}",
    operation_id="media_get",
    response_model=MediaRead,
    responses=error_responses(404),
)
async def get_media(principal: OptionalUser, media_id: str) -> MediaRead:
    return MediaRead.from_doc(await media_service.get(principal, media_id))


@router.get(
    "/media/{media_id}/content",
    operation_id="media_content",
    response_class=Response,
    responses={
        200: {
            "description": "The file (local storage)",
            "content": {"application/octet-stream": {}},
        },
        307: {"description": "Redirect to a short-lived read-only SAS URL (Azure)"},
        **error_responses(404, 503),
    },
)
async def get_content(
    principal: OptionalUser,
    media_id: str,
    settings: SettingsDep,
    storage: StorageDep,
    thumbnail: Annotated[bool, Query()] = False,
) -> Response:
    found = await media_service.content(settings, storage, principal, media_id, thumbnail)
    headers = {"Cache-Control": found.cache_control, "ETag": found.etag}
    if found.redirect_url:
        # The redirect itself must not be cached longer than the SAS lives.
        return RedirectResponse(
            found.redirect_url, status_code=307, headers={"Cache-Control": "private, no-store"}
        )
    headers["Content-Disposition"] = found.disposition
    return StreamingResponse(found.stream, media_type=found.content_type, headers=headers)


@router.delete(
    "/media/{media_id}",
    operation_id="media_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 503),
)
async def delete_media(principal: CurrentUser, media_id: str, storage: StorageDep) -> None:
    """The owner, or staff/admins for moderation. References to it are cleared."""
    await media_service.delete(storage, principal, media_id)


@router.put(
    "/profiles/me/avatar",
    operation_id="profiles_me_avatar_set",
    response_model=MediaRead,
    openapi_extra=FILE_ONLY_SCHEMA,
    responses=UPLOAD_ERRORS,
)
async def set_avatar(
    request: Request,
    principal: CurrentUser,
    settings: SettingsDep,
    storage: StorageDep,
    pool: MediaPoolDep,
) -> MediaRead:
    """Upload and attach an avatar; the previous one is deleted. Visible to whoever may see
    the profile."""
    target = await media_service.attach_target(principal, MediaOwnerKind.profile, None)
    return await _attach(request, principal, settings, storage, pool, target)


@router.put(
    "/organisations/{organisation_id}/logo",
    operation_id="organisations_logo_set",
    response_model=MediaRead,
    openapi_extra=FILE_ONLY_SCHEMA,
    responses=UPLOAD_ERRORS,
)
async def set_logo(
    request: Request,
    principal: CurrentUser,
    organisation_id: str,
    settings: SettingsDep,
    storage: StorageDep,
    pool: MediaPoolDep,
) -> MediaRead:
    """Organisation members; the previous logo is deleted."""
    target = await media_service.attach_target(
        principal, MediaOwnerKind.organisation, organisation_id
    )
    return await _attach(request, principal, settings, storage, pool, target)


@router.put(
    "/opportunities/{opportunity_id}/cover",
    operation_id="opportunities_cover_set",
    response_model=MediaRead,
    openapi_extra=FILE_ONLY_SCHEMA,
    responses=UPLOAD_ERRORS,
)
async def set_opportunity_cover(
    request: Request,
    principal: CurrentUser,
    opportunity_id: str,
    settings: SettingsDep,
    storage: StorageDep,
    pool: MediaPoolDep,
) -> MediaRead:
    """The cover is visible to whoever may see the opportunity."""
    target = await media_service.attach_target(
        principal, MediaOwnerKind.opportunity, opportunity_id
    )
    return await _attach(request, principal, settings, storage, pool, target)


@router.put(
    "/events/{event_id}/cover",
    operation_id="events_cover_set",
    response_model=MediaRead,
    openapi_extra=FILE_ONLY_SCHEMA,
    responses=UPLOAD_ERRORS,
)
async def set_event_cover(
    request: Request,
    principal: CurrentUser,
    event_id: str,
    settings: SettingsDep,
    storage: StorageDep,
    pool: MediaPoolDep,
) -> MediaRead:
    """The cover is visible to whoever may see the event."""
    target = await media_service.attach_target(principal, MediaOwnerKind.event, event_id)
    return await _attach(request, principal, settings, storage, pool, target)


async def _attach(
    request: Request,
    principal: Principal,
    settings: Settings,
    storage: Storage,
    pool: CpuPool,
    target: AttachTarget,
) -> MediaRead:
    """The target is resolved and authorised before a byte of the upload is read."""
    _, incoming = await _read(request, settings, target.purpose)
    try:
        return MediaRead.from_doc(
            await media_service.attach(settings, storage, pool, principal, target, incoming)
        )
    finally:
        incoming.file.close()
