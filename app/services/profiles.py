"""Business profiles: one per user, visibility rules, private demographics."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from app.core.exceptions import Conflict, NotFound
from app.core.pagination import SortSpec, paginate
from app.models.profile import Profile, Visibility
from app.models.reference import ReferenceKind
from app.schemas.profile import ProfilePatch, ProfileQuery, ProfileWrite
from app.services import reference, signals
from app.services.access import is_admin, object_id
from app.services.auth import Principal
from app.services.versioning import save_versioned

SORT = SortSpec("newest", "created_at", -1)


def _not_found() -> NotFound:
    return NotFound("The profile was not found.", code="PROFILE_NOT_FOUND")


def private_view(principal: Principal | None, profile: Profile) -> bool:
    """Owner and admins see everything, demographics included."""
    return principal is not None and (principal.id == profile.user_id or is_admin(principal))


def _visible_to(principal: Principal | None, profile: Profile) -> bool:
    if private_view(principal, profile) or profile.visibility is Visibility.public:
        return True
    return profile.visibility is Visibility.members and principal is not None


async def _check_refs(data: dict[str, Any]) -> None:
    for name, kind in (
        ("industries", ReferenceKind.industries),
        ("target_communities", ReferenceKind.target_communities),
        ("sdgs", ReferenceKind.sdgs),
        ("interests", ReferenceKind.tags),
    ):
        if data.get(name) is not None:
            data[name] = await reference.validate(kind, data[name], name)


async def get_mine(principal: Principal) -> Profile:
    profile = await Profile.find_one(Profile.user_id == principal.id)
    if profile is None:
        raise NotFound(
            "You have no profile yet; PUT /profiles/me creates it.", code="PROFILE_NOT_FOUND"
        )
    return profile


async def put_mine(
    principal: Principal, data: ProfileWrite, expected_version: int | None
) -> tuple[Profile, bool]:
    """Create or replace the caller's profile. Returns (profile, created)."""
    values = data.model_dump()
    await _check_refs(values)
    existing = await Profile.find_one(Profile.user_id == principal.id)
    if existing is None:
        profile = Profile(user_id=principal.id, **values)
        try:
            await profile.insert()
        except DuplicateKeyError as exc:
            raise Conflict(
                "Your profile was created meanwhile; retry.", code="PROFILE_EXISTS"
            ) from exc
        await _announce(profile, values)
        return profile, True
    return await _apply(existing, values, expected_version), False


async def patch_mine(
    principal: Principal, data: ProfilePatch, expected_version: int | None
) -> Profile:
    profile = await get_mine(principal)
    values = data.model_dump(exclude_unset=True)
    await _check_refs(values)
    return await _apply(profile, values, expected_version)


async def _apply(profile: Profile, values: dict[str, Any], expected_version: int | None) -> Profile:
    fresh = await save_versioned(profile, values, expected_version, "profile")
    await _announce(fresh, values)
    return fresh


async def _announce(profile: Profile, values: dict[str, Any]) -> None:
    """Tell listeners (recommendations) which fields were written."""
    await signals.profile_changed.send(signals.ProfileChanged(profile.user_id, frozenset(values)))


async def get(principal: Principal | None, profile_id: str) -> Profile:
    profile = await Profile.get(object_id(profile_id, "PROFILE_NOT_FOUND", "profile"))
    if profile is None or not _visible_to(principal, profile):
        raise _not_found()
    return profile


async def list_profiles(
    principal: Principal | None, query: ProfileQuery
) -> tuple[list[Profile], str | None, int | None]:
    country, industry = query.country, query.industry
    visible = [Visibility.public.value] + ([Visibility.members.value] if principal else [])
    filters: dict[str, Any] = {"visibility": {"$in": visible}}
    if country:
        filters["country"] = country
    if industry:
        await reference.validate(ReferenceKind.industries, [industry], "industry", where="query")
        filters["industries"] = industry
    return await paginate(Profile, filters, SORT, query.page)
