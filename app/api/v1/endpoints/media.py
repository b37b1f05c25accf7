"""Files: upload one (attached to nothing yet), read it, its content, delete it. Routes that
attach an upload to its owner live with the owner (`attachments.add_attach_route`)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse

from app.api.deps import (
    CurrentUser,
    MediaPoolDep,
    OptionalUser,
    SettingsDep,
    StorageDep,
)
from app.api.http import set_created
from app.api.routing import StrictRoute
from app.api.uploads import UploadRoute
from app.api.v1.endpoints.attachments import UPLOAD_ERRORS, read_file
from app.schemas.common import error_responses
from app.schemas.media import UPLOAD_SCHEMA, MediaRead
from app.services import media as media_service

router = APIRouter(tags=["media"], route_class=StrictRoute)


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
    fields, incoming = await read_file(request, settings, None)
    media = await media_service.upload(settings, storage, pool, principal, fields, incoming)
    set_created(response, f"/api/v1/media/{media.id}")
    return MediaRead.from_doc(media)


router.add_api_route(
    "/media",
    upload,
    methods=["POST"],
    operation_id="media_upload",
    response_model=MediaRead,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=UPLOAD_SCHEMA,
    responses=UPLOAD_ERRORS,
    route_class_override=UploadRoute,  # streams its body under the purpose's limit
)


@router.get(
    "/media/{media_id}",
    operation_id="media_get",
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
