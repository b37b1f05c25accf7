"""Upload routes that attach a file to its owner (an avatar, a logo, a cover): one factory,
used by each owner's endpoints module. The routes are `UploadRoute`s, so their limits are
the purpose's, enforced while the body streams.

No postponed annotations here: the closures' parameter types are evaluated where they are
defined, so FastAPI sees the path alias of each owner's parameter."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from app.api.deps import MAX_PATH_KEY, CurrentUser, MediaPoolDep, SettingsDep, StorageDep
from app.api.uploads import UploadRoute, read_upload
from app.core.config import Settings
from app.core.exceptions import ValidationFailed
from app.models.media import MediaOwnerKind, MediaPurpose
from app.schemas.common import error_responses
from app.schemas.media import FILE_ONLY_SCHEMA, MediaRead
from app.services import media as media_service
from app.services.media import IncomingFile

# What every upload can answer (the owner's own 403/404 codes come with each route).
UPLOAD_CODES: dict[int, list[str]] = {
    413: ["FILE_TOO_LARGE", "FIELD_TOO_LARGE", "PAYLOAD_TOO_LARGE"],
    415: ["MULTIPART_REQUIRED", "UNSUPPORTED_FILE_TYPE"],
    422: [
        "VALIDATION_ERROR",
        "FILE_REQUIRED",
        "INVALID_MULTIPART",
        "EMPTY_FILE",
        "INVALID_IMAGE",
        "IMAGE_TOO_LARGE",
        "IMAGE_TOO_COMPLEX",
        "INVALID_PDF",
    ],
    503: ["MEDIA_BUSY", "STORAGE_UNAVAILABLE"],
}


def upload_errors(owner_codes: dict[int, list[str]] | None = None) -> dict[int | str, Any]:
    codes = {**UPLOAD_CODES, **(owner_codes or {})}
    return error_responses(401, *sorted(codes), codes=codes)


async def read_file(
    request: Request, settings: Settings, purpose: MediaPurpose | None
) -> tuple[dict[str, str], IncomingFile]:
    """The multipart body: its text fields and the file, streamed under the limit of
    `purpose` (or, when None, of the `purpose` field sent before the file)."""

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


def add_attach_route(
    router: APIRouter,
    path: str,
    owner: MediaOwnerKind,
    *,
    param: str | None,
    operation_id: str,
    summary: str,
    description: str,
    codes: dict[int, list[str]],
) -> None:
    """PUT `path` uploads a file and makes it the owner's (`param`: the path parameter
    naming the owner; None for the caller's own, e.g. their profile)."""

    async def own() -> str | None:
        return None

    async def path_key(
        key: Annotated[str, Path(alias=param or "key", min_length=1, max_length=MAX_PATH_KEY)],
    ) -> str | None:
        return key

    key_of: Callable[..., Awaitable[str | None]] = own if param is None else path_key

    async def endpoint(
        request: Request,
        principal: CurrentUser,
        key: Annotated[str | None, Depends(key_of)],
        settings: SettingsDep,
        storage: StorageDep,
        pool: MediaPoolDep,
    ) -> MediaRead:
        async def receive(purpose: MediaPurpose) -> IncomingFile:
            return (await read_file(request, settings, purpose))[1]

        media = await media_service.attach(settings, storage, pool, principal, owner, key, receive)
        return MediaRead.from_doc(media, settings.public_base_url)

    endpoint.__name__ = operation_id
    router.add_api_route(
        path,
        endpoint,
        methods=["PUT"],
        response_model=MediaRead,
        operation_id=operation_id,
        summary=summary,
        description=description,
        openapi_extra=FILE_ONLY_SCHEMA,
        responses=upload_errors(codes),
        route_class_override=UploadRoute,
    )
