"""Files: upload one (attached to nothing yet), read it, its content, delete it. Routes that
attach an upload to its owner live with the owner (`attachments.add_attach_route`)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse

from app.api.deps import (
    CurrentUser,
    MediaPoolDep,
    OptionalUser,
    PathKey,
    SettingsDep,
    StorageDep,
)
from app.api.http import set_created
from app.api.routing import StrictRoute
from app.api.uploads import UploadRoute
from app.api.v1.endpoints.attachments import UPLOAD_CODES, read_file, upload_errors
from app.schemas.common import error_responses
from app.schemas.media import UPLOAD_SCHEMA, MediaRead
from app.services import media as media_service

router = APIRouter(tags=["media"], route_class=StrictRoute)
FILE_SCHEMA = {"type": "string", "format": "binary", "maxLength": 20 * 1024 * 1024}
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf")


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
    return MediaRead.from_doc(media, settings.public_base_url)


router.add_api_route(
    "/media",
    upload,
    methods=["POST"],
    operation_id="media_upload",
    response_model=MediaRead,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=UPLOAD_SCHEMA,
    responses=upload_errors({422: [*UPLOAD_CODES[422], "PURPOSE_REQUIRED", "INVALID_PURPOSE"]}),
    route_class_override=UploadRoute,  # streams its body under the purpose's limit
)


@router.get(
    "/media/{media_id}",
    operation_id="media_get",
    responses=error_responses(404),
)
async def get_media(principal: OptionalUser, media_id: PathKey, settings: SettingsDep) -> MediaRead:
    """A file's metadata, for whoever may see what it is attached to (unattached: its
    uploader and staff)."""
    return MediaRead.from_doc(
        await media_service.get(principal, media_id), settings.public_base_url
    )


@router.get(
    "/media/{media_id}/content",
    operation_id="media_content",
    response_class=Response,
    responses={
        200: {
            "description": "The file (local storage), as its type: an image or a PDF.",
            "content": {t: {"schema": FILE_SCHEMA} for t in CONTENT_TYPES},
            "headers": {
                "ETag": {"$ref": "#/components/headers/ETag"},
                "Content-Disposition": {"$ref": "#/components/headers/Content-Disposition"},
            },
        },
        307: {
            "description": "Redirect to a short-lived read-only SAS URL (Azure).",
            "headers": {"Location": {"$ref": "#/components/headers/Location"}},
        },
        **error_responses(
            404,
            503,
            codes={
                404: ["MEDIA_NOT_FOUND", "THUMBNAIL_NOT_FOUND", "MEDIA_CONTENT_MISSING"],
                503: ["STORAGE_UNAVAILABLE"],
            },
        ),
    },
)
async def get_content(
    principal: OptionalUser,
    media_id: PathKey,
    settings: SettingsDep,
    storage: StorageDep,
    thumbnail: Annotated[bool, Query()] = False,
) -> Response:
    """The bytes (or a redirect to them), for whoever may see the file; `thumbnail=true`
    for an image's small version. The link in `content_url` is absolute, for `<img src>`."""
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
    responses=error_responses(
        401, 403, 404, 503, codes={403: ["NOT_MEDIA_OWNER"], 503: ["STORAGE_UNAVAILABLE"]}
    ),
)
async def delete_media(principal: CurrentUser, media_id: PathKey, storage: StorageDep) -> None:
    """The owner, or staff/admins for moderation. References to it are cleared."""
    await media_service.delete(storage, principal, media_id)
