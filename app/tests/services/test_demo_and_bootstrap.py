"""Start-up data on the embedded backend: reference data, demo admin, demo catalogue."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from app.models.event import Event
from app.models.opportunity import Opportunity
from app.models.organisation import Organisation
from app.models.profile import Profile
from app.models.user import Role, User
from app.seed.demo import load_demo


# The demo catalogue loads on the embedded backend only (`make run`): this test keeps it.
@pytest.mark.parametrize("settings_overrides", [{"seed_demo_data": True, "mongodb_url": None}])
async def test_embedded_start_loads_a_living_catalogue(client: AsyncClient, settings) -> None:
    assert await Organisation.find_all().count() == 12
    assert await Opportunity.find_all().count() == 60
    assert await Event.find_all().count() == 40
    assert await Profile.find_all().count() == 8
    admins = await User.find(User.role == Role.admin).to_list()
    assert [a.email for a in admins] == ["admin@runwei.local"]
    page = (
        await client.get(
            "/api/v1/opportunities", params={"include_total": "true", "facets": "type"}
        )
    ).json()
    assert page["total"] >= 40  # published ones
    assert {f["value"] for f in page["facets"]["type"]} >= {"grant", "loan", "equity"}
    events = (await client.get("/api/v1/events", params={"q": "nairobi"})).json()["items"]
    assert events
    # Loading again is a no-op.
    assert (await load_demo(settings))["opportunities"] == 0


@pytest.mark.parametrize(
    "settings_overrides",
    [{"first_admin_email": "Boss@Example.org", "first_admin_password": "a-strong-admin-pass-1"}],
)
async def test_first_admin_from_settings(client: AsyncClient) -> None:
    login = await client.post(
        "/api/v1/auth/login/json",
        json={"email": "boss@example.org", "password": "a-strong-admin-pass-1"},
    )
    assert login.status_code == 200
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert me.json()["role"] == "admin"
    assert await User.find(User.role == Role.admin).count() == 1
