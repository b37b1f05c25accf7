"""What a file can be attached to, and how each kind of owner decides who sees it and who
manages it. One registry entry per kind; the media service never switches on types.

Each owner kind delegates to its own service (profiles, organisations, the catalogue), so a
file is visible exactly when its owner is — whatever those services decide visibility means
— and an upload can only be attached by someone that service lets change the owner.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from beanie import Document, PydanticObjectId

from app.core.exceptions import AppError, NotFound
from app.models.media import MediaOwnerKind, MediaPurpose
from app.models.organisation import Organisation
from app.models.profile import Profile
from app.services import catalogue, events, opportunities, profiles
from app.services import organisations as org_service
from app.services.auth import Principal
from app.services.capabilities import Action
from app.services.catalogue import CatalogueKind

Loader = Callable[[Principal | None, str], Awaitable[Document]]
ManagedLoader = Callable[[Principal, str | None], Awaitable[Document]]


@dataclass(frozen=True)
class Owner:
    kind: MediaOwnerKind
    purpose: MediaPurpose  # what an upload attached here is
    model: type[Document]
    field: str  # the owner's field that points at its current file
    load_visible: Loader  # the owner as `principal` may see it, else NotFound
    load_managed: ManagedLoader  # the owner if `principal` may change it, else NotFound/Forbidden

    async def visible(self, principal: Principal | None, owner_id: PydanticObjectId) -> bool:
        try:
            await self.load_visible(principal, str(owner_id))
        except NotFound:
            return False
        return True

    async def manages(self, principal: Principal, owner_id: PydanticObjectId) -> bool:
        try:
            owner = await self.load_managed(principal, str(owner_id))
        except AppError:
            return False
        return bool(owner.id == owner_id)

    async def exists(self, owner_id: PydanticObjectId) -> bool:
        return await self.model.find_one({"_id": owner_id}) is not None


_REGISTRY: dict[MediaOwnerKind, Owner] = {}


def register(owner: Owner) -> Owner:
    _REGISTRY[owner.kind] = owner
    return owner


def get(kind: MediaOwnerKind) -> Owner:
    return _REGISTRY[kind]


def all_owners() -> Iterable[Owner]:
    return _REGISTRY.values()


# --- the owners -------------------------------------------------------------------------------


async def _own_profile(principal: Principal, key: str | None) -> Profile:
    """Only one's own profile takes an avatar (checked before the upload is read)."""
    profile = await Profile.find_one(Profile.user_id == principal.id)
    if profile is None:
        raise NotFound("Create your profile first (PUT /profiles/me).", code="PROFILE_NOT_FOUND")
    if key is not None and key != str(profile.id):
        raise NotFound("The profile was not found.", code="PROFILE_NOT_FOUND")
    return profile


async def _managed_organisation(principal: Principal, key: str | None) -> Organisation:
    return await org_service.get_for(principal, key or "", Action.org_upload_logo)


def _catalogue_owner(kind: CatalogueKind[Any]) -> Owner:
    """Items of a catalogue kind take a cover, visible whenever the item is."""

    async def visible(principal: Principal | None, key: str) -> Document:
        item: Document = await catalogue.get_visible(kind, await catalogue.viewer(principal), key)
        return item

    async def managed(principal: Principal, key: str | None) -> Document:
        who = await catalogue.viewer(principal)
        item: Document = await catalogue.get_managed(kind, who, key or "", Action.item_upload_cover)
        return item

    return Owner(
        kind.media_owner, MediaPurpose.cover_image, kind.model, "cover_media_id", visible, managed
    )


async def _visible_profile(principal: Principal | None, key: str) -> Document:
    return await profiles.get(principal, key)


async def _visible_organisation(principal: Principal | None, key: str) -> Document:
    return await org_service.get(principal, key)


PROFILE = register(
    Owner(
        MediaOwnerKind.profile,
        MediaPurpose.avatar,
        Profile,
        "avatar_media_id",
        _visible_profile,
        _own_profile,
    )
)
ORGANISATION = register(
    Owner(
        MediaOwnerKind.organisation,
        MediaPurpose.organisation_logo,
        Organisation,
        "logo_media_id",
        _visible_organisation,
        _managed_organisation,
    )
)
OPPORTUNITY = register(_catalogue_owner(opportunities.KIND))
EVENT = register(_catalogue_owner(events.KIND))
