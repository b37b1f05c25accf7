"""Media: validated uploads to blob storage, attaching them to their owners, who may see and
delete them (upkeep outside requests — old records' owner links, the orphan sweep — is
`media_upkeep.py`).

A file attached to something (a profile's avatar, an organisation's logo, an opportunity's or
event's cover) is visible exactly to those who may see its owner (`media_owners`); a file
attached to nothing is its uploader's (and staff's). Images are decoded and re-encoded in the
bounded pool (`core/cpu_pool.py`) under their purpose's pixel budget.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from anyio import to_thread
from beanie import PydanticObjectId
from pymongo.errors import PyMongoError

from app.core.config import Settings
from app.core.cpu_pool import CpuPool
from app.core.exceptions import Forbidden, NotFound, TooLarge, ValidationFailed
from app.models.base import utcnow
from app.models.media import Media, MediaOwnerKind, MediaOwnerRef, MediaPurpose
from app.services import media_owners
from app.services.access import is_staff, object_id
from app.services.auth import Principal
from app.storage import Storage
from app.utils.media_files import (
    PDF_TYPE,
    Prepared,
    detect,
    prepare_image,
    prepare_pdf,
    safe_filename,
)
from app.utils.media_images import IMAGE_TYPES

log = structlog.get_logger("app.media")

THUMBNAILS = {MediaPurpose.avatar: 256, MediaPurpose.cover_image: 640}
# Stored images are scaled down to this longest side: more is never displayed, and it bounds
# the CPU time of re-encoding (a 12 MP phone photo is decoded at 1/4 scale for an avatar,
# 1/2 for a cover) and of every later download.
MAX_SIDE = {
    MediaPurpose.avatar: 768,
    MediaPurpose.organisation_logo: 1024,
    MediaPurpose.cover_image: 1920,
}


def allowed_types(purpose: MediaPurpose) -> set[str]:
    return {PDF_TYPE} if purpose is MediaPurpose.attachment else set(IMAGE_TYPES)


def max_bytes(settings: Settings, purpose: MediaPurpose | None) -> int:
    """The limit for `purpose`; before the purpose is known, the largest one."""
    if purpose is MediaPurpose.attachment:
        return settings.media_max_attachment_bytes
    if purpose is None:
        return max(settings.media_max_attachment_bytes, settings.media_max_image_bytes)
    return settings.media_max_image_bytes


def max_pixels(settings: Settings, purpose: MediaPurpose) -> int:
    """The purpose's pixel budget (an avatar needs far fewer pixels than a cover)."""
    return {
        MediaPurpose.avatar: settings.media_avatar_max_pixels,
        MediaPurpose.organisation_logo: settings.media_logo_max_pixels,
    }.get(purpose, settings.media_cover_max_pixels)


def parse_purpose(value: str | None) -> MediaPurpose:
    if not value:
        raise ValidationFailed(
            "The purpose is required.",
            code="PURPOSE_REQUIRED",
            details=[
                {"loc": ["body", "purpose"], "msg": f"one of {[p.value for p in MediaPurpose]}"}
            ],
        )
    try:
        return MediaPurpose(value)
    except ValueError as exc:
        raise ValidationFailed(
            "Unknown purpose.",
            code="INVALID_PURPOSE",
            details=[
                {"loc": ["body", "purpose"], "msg": f"one of {[p.value for p in MediaPurpose]}"}
            ],
        ) from exc


def purpose_from_fields(fields: dict[str, str]) -> MediaPurpose | None:
    try:
        return MediaPurpose(fields["purpose"]) if "purpose" in fields else None
    except ValueError:
        return None


@dataclass
class IncomingFile:
    """What the endpoint read off the wire (a spooled temp file, never the whole body in RAM)."""

    file: Any
    size: int
    filename: str | None


def _blob_names(purpose: MediaPurpose, extension: str) -> tuple[str, str]:
    now = utcnow()
    stem = f"{purpose.value}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}"
    return f"{stem}.{extension}", f"{stem}_thumb.webp"


async def _prepare(
    settings: Settings, pool: CpuPool, purpose: MediaPurpose, incoming: IncomingFile
) -> Prepared:
    content_type = detect(incoming.file, allowed_types(purpose))
    if content_type == PDF_TYPE:
        return await to_thread.run_sync(lambda: prepare_pdf(incoming.file))
    return await pool.run(
        lambda: prepare_image(
            incoming.file,
            content_type,
            max_pixels=max_pixels(settings, purpose),
            max_side=MAX_SIDE.get(purpose),
            thumbnail_px=THUMBNAILS.get(purpose),
        )
    )


async def create(
    settings: Settings,
    storage: Storage,
    pool: CpuPool,
    principal: Principal,
    purpose: MediaPurpose,
    incoming: IncomingFile,
    attached_to: MediaOwnerRef | None = None,
) -> Media:
    if incoming.size > max_bytes(settings, purpose):
        raise TooLarge("The file is larger than allowed for this purpose.", code="FILE_TOO_LARGE")
    prepared = await _prepare(settings, pool, purpose, incoming)
    blob_name, thumb_name = _blob_names(purpose, prepared.extension)
    filename = safe_filename(incoming.filename)
    metadata = {"purpose": purpose.value, "owner": str(principal.id)}
    written: list[str] = []
    try:
        await storage.put(blob_name, prepared.file, prepared.size, prepared.content_type, metadata)
        written.append(blob_name)
        if prepared.thumbnail is not None:
            thumb = io.BytesIO(prepared.thumbnail)
            await storage.put(thumb_name, thumb, len(prepared.thumbnail), "image/webp", metadata)
            written.append(thumb_name)
        media = Media(
            owner_id=principal.id,
            purpose=purpose,
            backend=storage.backend,
            blob_name=blob_name,
            thumbnail_blob_name=thumb_name if prepared.thumbnail is not None else None,
            content_type=prepared.content_type,
            size=prepared.size,
            sha256=prepared.sha256,
            width=prepared.width,
            height=prepared.height,
            original_filename=filename,
            attached_to=attached_to,
        )
        await media.insert()
    except BaseException as exc:
        # Nothing may point at a blob that was never written, and no blob may outlive a
        # failed record: remove what we wrote (cleanup_orphans sweeps what this misses).
        for name in written:
            try:
                await storage.delete(name)
            except Exception:
                log.warning("orphan_blob_left", blob=name)
        if isinstance(exc, PyMongoError):
            log.error("media_record_failed", error=type(exc).__name__)
        raise
    finally:
        prepared.file.close()
    log.info("media_uploaded", media_id=str(media.id), purpose=purpose.value, size=media.size)
    return media


async def _can_see(principal: Principal | None, media: Media) -> bool:
    if is_staff(principal):
        return True
    uploader = principal is not None and principal.id == media.owner_id
    if media.attached_to is None:
        return uploader
    owner = media_owners.get(media.attached_to.kind)
    if await owner.visible(principal, media.attached_to.id):
        return True
    # A file whose owner is gone is left to its uploader.
    return uploader and not await owner.exists(media.attached_to.id)


async def get(principal: Principal | None, media_id: str) -> Media:
    media = await Media.get(object_id(media_id, "MEDIA_NOT_FOUND", "file"))
    if media is None or not await _can_see(principal, media):
        raise NotFound("The file was not found.", code="MEDIA_NOT_FOUND")
    return media


@dataclass
class Content:
    redirect_url: str | None
    stream: Any
    content_type: str
    disposition: str
    cache_control: str
    etag: str


async def content(
    settings: Settings,
    storage: Storage,
    principal: Principal | None,
    media_id: str,
    thumbnail: bool,
) -> Content:
    media = await get(principal, media_id)
    name, content_type = media.blob_name, media.content_type
    if thumbnail:
        if media.thumbnail_blob_name is None:
            raise NotFound("This file has no thumbnail.", code="THUMBNAIL_NOT_FOUND")
        name, content_type = media.thumbnail_blob_name, "image/webp"
    extension = name.rsplit(".", 1)[-1]
    download_name = f"{media.purpose.value}-{media.id}{'-thumb' if thumbnail else ''}.{extension}"
    kind = "inline" if content_type.startswith("image/") else "attachment"
    disposition = f'{kind}; filename="{download_name}"'
    # Shared caches may keep it only while anyone may see it, and not for long: the owner can
    # leave the public set (unpublished, made private) at any time.
    public = principal is None or await _can_see(None, media)
    cache = "public, max-age=300" if public else "private, max-age=300"
    url = await storage.read_url(
        name, content_type=content_type, disposition=disposition, minutes=settings.media_sas_minutes
    )
    if url is None and not await storage.exists(name):
        # Streamed locally: check before the response starts, or the client gets half a reply.
        raise NotFound("The file's content is missing.", code="MEDIA_CONTENT_MISSING")
    return Content(
        redirect_url=url,
        stream=None if url else storage.read(name),
        content_type=content_type,
        disposition=disposition,
        cache_control=cache,
        etag=f'"{media.sha256}{"-t" if thumbnail else ""}"',
    )


async def delete(storage: Storage, principal: Principal, media_id: str) -> None:
    """The uploader, staff, or whoever manages what the file is attached to."""
    media = await get(principal, media_id)
    allowed = media.owner_id == principal.id or is_staff(principal)
    if not allowed and media.attached_to is not None:
        owner = media_owners.get(media.attached_to.kind)
        allowed = await owner.manages(principal, media.attached_to.id)
    if not allowed:
        raise Forbidden("Only the owner (or staff) can delete this file.", code="NOT_MEDIA_OWNER")
    await remove(storage, media)
    log.info("media_deleted", media_id=str(media.id), by=str(principal.id))


async def remove(storage: Storage, media: Media) -> None:
    """Blobs first, then the record, then references — each step idempotent."""
    for name in (media.blob_name, media.thumbnail_blob_name):
        if name:
            await storage.delete(name)
    await media.delete()
    for owner in media_owners.all_owners():
        await owner.model.get_motor_collection().update_many(  # a new version: ETags move
            {owner.field: media.id},
            {"$set": {owner.field: None, "updated_at": utcnow()}, "$inc": {"version": 1}},
        )


# --- attaching uploads to their owners --------------------------------------------------------


# Reads the upload off the wire once the target is known and authorised: the purpose's
# limit applies while it streams (see `api/uploads.read_upload`).
Receive = Callable[[MediaPurpose], Awaitable[IncomingFile]]


async def attach(
    settings: Settings,
    storage: Storage,
    pool: CpuPool,
    principal: Principal,
    kind: MediaOwnerKind,
    key: str | None,
    receive: Receive,
) -> Media:
    """Upload a file for an owner (`kind` + `key`) and point the owner at it; the file it
    replaces is deleted. The owner is resolved and authorised before a byte of the upload
    is read."""
    owner = media_owners.get(kind)
    document = await owner.load_managed(principal, key)
    owner_id = document.id
    assert owner_id is not None  # noqa: S101 - a loaded document
    incoming = await receive(owner.purpose)
    try:
        ref = MediaOwnerRef(kind=owner.kind, id=owner_id)
        media = await create(settings, storage, pool, principal, owner.purpose, incoming, ref)
    finally:
        incoming.file.close()
    previous = await owner.model.get_motor_collection().find_one_and_update(
        {"_id": owner_id},
        {"$set": {owner.field: media.id, "updated_at": utcnow()}, "$inc": {"version": 1}},
    )
    if previous is None:  # the owner was deleted meanwhile
        await remove(storage, media)
        raise NotFound("The owner of this file no longer exists.", code="MEDIA_OWNER_NOT_FOUND")
    old_id = previous.get(owner.field)
    if old_id and old_id != media.id:
        old = await Media.get(PydanticObjectId(old_id))
        if old is not None:
            await remove(storage, old)
    return media


async def upload(
    settings: Settings,
    storage: Storage,
    pool: CpuPool,
    principal: Principal,
    fields: dict[str, str],
    incoming: IncomingFile,
) -> Media:
    """A file attached to nothing yet, for the `purpose` form field (its uploader's)."""
    try:
        purpose = parse_purpose(fields.get("purpose"))
        return await create(settings, storage, pool, principal, purpose, incoming)
    finally:
        incoming.file.close()
