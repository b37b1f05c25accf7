"""Organisation guards on a real MongoDB (`-m mongodb`; skipped without MONGODB_URL): there,
concurrent requests really interleave, so no test helper is needed to force the race."""

from __future__ import annotations

import asyncio

import pytest
from beanie import PydanticObjectId
from httpx import AsyncClient

from app.core.config import Settings
from app.models.invitation import KEEP_AFTER_EXPIRY_SECONDS
from app.models.organisation import Organisation
from app.tests import factories
from app.tests.test_mongodb import real_app, real_client  # noqa: F401 - fixtures

pytestmark = pytest.mark.mongodb


async def _user(real_app, role: str) -> factories.UserWithToken:  # noqa: F811
    settings: Settings = real_app.state.settings
    return await factories.make_user(settings, role=role)


async def test_invitation_indexes(real_app) -> None:  # noqa: F811
    info = await real_app.state.database.db["invitations"].index_information()
    assert info["slot_unique"]["unique"] is True
    assert info["ttl_expires"]["expireAfterSeconds"] == KEEP_AFTER_EXPIRY_SECONDS


async def test_concurrent_invitations_and_owner_removals(
    real_app,  # noqa: F811
    real_client: AsyncClient,  # noqa: F811
) -> None:
    a = await _user(real_app, "partner")
    b = await _user(real_app, "partner")
    org = await factories.make_org(real_client, a)
    url = f"/api/v1/organisations/{org['id']}/invitations"
    invited = await asyncio.gather(
        *(
            real_client.post(url, headers=a.headers, json={"email": b.email, "role": "owner"})
            for _ in range(10)
        )
    )
    codes = sorted(r.status_code for r in invited)
    assert codes == [201] + [409] * 9
    created = next(r.json() for r in invited if r.status_code == 201)
    accepted = await asyncio.gather(
        *(
            real_client.post(f"/api/v1/me/invitations/{created['id']}/accept", headers=b.headers)
            for _ in range(5)
        )
    )
    assert [r.status_code for r in accepted] == [200] * 5
    members = f"/api/v1/organisations/{org['id']}/members"
    removed = await asyncio.gather(
        real_client.delete(f"{members}/{b.id}", headers=a.headers),
        real_client.delete(f"{members}/{a.id}", headers=b.headers),
    )
    assert sorted(r.status_code for r in removed) == [200, 409]
    fresh = await Organisation.get(PydanticObjectId(org["id"]))
    assert [m.role.value for m in fresh.members] == ["owner"]


async def test_concurrent_invitations_keep_the_daily_quota(
    real_app,  # noqa: F811
    real_client: AsyncClient,  # noqa: F811
) -> None:
    owner = await _user(real_app, "partner")
    org = await factories.make_org(real_client, owner)
    url = f"/api/v1/organisations/{org['id']}/invitations"
    quota = real_app.state.settings.invitations_per_organisation_per_day
    sent = await asyncio.gather(
        *(
            real_client.post(
                url, headers=owner.headers, json={"email": f"q{n}@example.org", "role": "editor"}
            )
            for n in range(quota + 10)
        )
    )
    assert sorted(r.status_code for r in sent) == [201] * quota + [429] * 10
