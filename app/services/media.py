"""Media: validated uploads to blob storage, who may see and delete them, attaching them to
profiles, organisations, opportunities and events, and the orphan sweep."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from anyio import to_thread
from beanie import PydanticObjectId
from pymongo.errors import PyMongoError

from app.core.config import Settings
from app.core.exceptions import Forbidden, NotFound, TooLarge, ValidationFailed
from app.models.base import utcnow
from app.models.catalogue import CatalogueItem
from app.models.event import Event
from app.models.media import Media, MediaPurpose
from app.models.opportunity import Opportunity
from app.models.organisation import Organisation
from app.models.profile import Profile
from app.services import catalogue, events, opportunities
from app.services import organisations as org_service
from app.services.access import is_staff, object_id
from app.services.auth import Principal
from app.services.capabilities import Action
from app.services.media_files import IMAGE_TYPES, PDF_TYPE, Prepared, prepare, safe_filename
from app.services.storage import Storage

log = structlog.get_logger("app.media")

PUBLIC_PURPOSES = {MediaPurpose.avatar, MediaPurpose.organisation_logo, MediaPurpose.cover_image}
THUMBNAILS = {MediaPurpose.avatar: 256, MediaPurpose.cover_image: 640}


def allowed_types(purpose: MediaPurpose) -> set[str]:
    return {PDF_TYPE} if purpose is MediaPurpose.attachment else set(IMAGE_TYPES)


def max_bytes(settings: Settings, purpose: MediaPurpose | None) -> int:
    """The limit for `purpose`; before the purpose is known, the largest one."""
    if purpose is MediaPurpose.attachment:
        return settings.media_max_attachment_bytes
    if purpose is None:
        return max(settings.media_max_attachment_bytes, settings.media_max_image_bytes)
    return settings.media_max_image_bytes


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


async def create(
    settings: Settings,
    storage: Storage,
    principal: Principal,
    purpose: MediaPurpose,
    incoming: IncomingFile,
) -> Media:
    if incoming.size > max_bytes(settings, purpose):
        raise TooLarge("The file is larger than allowed for this purpose.", code="FILE_TOO_LARGE")
    prepared: Prepared = await to_thread.run_sync(
        lambda: prepare(
            incoming.file,
            allowed_types(purpose),
            max_pixels=settings.media_max_image_pixels,
            thumbnail_px=THUMBNAILS.get(purpose),
        )
    )
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


def _can_see(principal: Principal | None, media: Media) -> bool:
    if media.purpose in PUBLIC_PURPOSES:
        return True
    return principal is not None and (principal.id == media.owner_id or is_staff(principal))


async def get(principal: Principal | None, media_id: str) -> Media:
    media = await Media.get(object_id(media_id, "MEDIA_NOT_FOUND", "file"))
    if media is None or not _can_see(principal, media):
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
    public = media.purpose in PUBLIC_PURPOSES
    cache = "public, max-age=86400, immutable" if public else "private, max-age=300"
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


REFERENCES: list[tuple[type[Any], str]] = [
    (Profile, "avatar_media_id"),
    (Organisation, "logo_media_id"),
    (Opportunity, "cover_media_id"),
    (Event, "cover_media_id"),
]


async def delete(storage: Storage, principal: Principal, media_id: str) -> None:
    media = await get(principal, media_id)
    if media.owner_id != principal.id and not is_staff(principal):
        raise Forbidden("Only the owner (or staff) can delete this file.", code="NOT_MEDIA_OWNER")
    await _remove(storage, media)
    log.info("media_deleted", media_id=str(media.id), by=str(principal.id))


async def _remove(storage: Storage, media: Media) -> None:
    """Blobs first, then the record, then references — each step idempotent."""
    for name in (media.blob_name, media.thumbnail_blob_name):
        if name:
            await storage.delete(name)
    await media.delete()
    for model, field in REFERENCES:
        await model.get_motor_collection().update_many({field: media.id}, {"$set": {field: None}})


# --- attaching uploads to their owners --------------------------------------------------------


async def _replace(storage: Storage, model: type[Any], doc_id: Any, field: str, new: Media) -> None:
    """Point `field` at the new media; the one it replaces is deleted (blob and record)."""
    previous = await model.get_motor_collection().find_one_and_update(
        {"_id": doc_id}, {"$set": {field: new.id, "updated_at": utcnow()}, "$inc": {"version": 1}}
    )
    old_id = previous.get(field) if previous else None
    if old_id and old_id != new.id:
        old = await Media.get(PydanticObjectId(old_id))
        if old is not None:
            await _remove(storage, old)


async def avatar_target(principal: Principal) -> Profile:
    """Checked before the upload is read: the caller needs a profile."""
    profile = await Profile.find_one(Profile.user_id == principal.id)
    if profile is None:
        raise NotFound("Create your profile first (PUT /profiles/me).", code="PROFILE_NOT_FOUND")
    return profile


async def logo_target(principal: Principal, key: str) -> Organisation:
    return await org_service.get_for(principal, key, Action.org_upload_logo)


async def cover_target(principal: Principal, entity: str, key: str) -> CatalogueItem:
    kind: Any = opportunities.KIND if entity == "opportunity" else events.KIND
    who = await catalogue.viewer(principal)
    item: CatalogueItem = await catalogue.get_managed(kind, who, key, Action.item_upload_cover)
    return item


async def attach(
    settings: Settings,
    storage: Storage,
    principal: Principal,
    target: Profile | Organisation | CatalogueItem,
    incoming: IncomingFile,
) -> Media:
    """Upload for `target` (resolved and authorised beforehand) and point it at the file."""
    purpose, field = {
        Profile: (MediaPurpose.avatar, "avatar_media_id"),
        Organisation: (MediaPurpose.organisation_logo, "logo_media_id"),
        Opportunity: (MediaPurpose.cover_image, "cover_media_id"),
        Event: (MediaPurpose.cover_image, "cover_media_id"),
    }[type(target)]
    media = await create(settings, storage, principal, purpose, incoming)
    await _replace(storage, type(target), target.id, field, media)
    return media


# --- orphan sweep (scripts/cleanup_orphans.py) ------------------------------------------------


@dataclass
class SweepReport:
    orphan_blobs: list[str]
    missing_blobs: list[str]


async def find_orphans(storage: Storage, grace: timedelta = timedelta(hours=1)) -> SweepReport:
    """Blobs no record points to (older than `grace`, so uploads in flight are left alone)
    and records whose blob is gone."""
    known: set[str] = set()
    missing: list[str] = []
    async for media in Media.find_all():
        known.add(media.blob_name)
        if media.thumbnail_blob_name:
            known.add(media.thumbnail_blob_name)
        if not await storage.exists(media.blob_name):
            missing.append(str(media.id))
    cutoff = utcnow() - grace
    orphans = [
        name async for name, modified in storage.names() if name not in known and modified < cutoff
    ]
    return SweepReport(orphan_blobs=orphans, missing_blobs=missing)


async def sweep(storage: Storage, report: SweepReport) -> None:
    for name in report.orphan_blobs:
        await storage.delete(name)
    for media_id in report.missing_blobs:
        media = await Media.get(object_id(media_id, "MEDIA_NOT_FOUND", "file"))
        if media is not None:
            await _remove(storage, media)
