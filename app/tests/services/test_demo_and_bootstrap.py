"""Start-up data on the embedded backend: reference data, demo admin, demo catalogue."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient
from pydantic import ValidationError

from app.core.config import Settings
from app.models.event import Event
from app.models.opportunity import Opportunity
from app.models.organisation import Organisation, Partnership
from app.models.profile import Profile
from app.models.user import Role, User
from app.schemas.validators import EMAIL
from app.seed.demo import load_demo
from app.tests.errors import assert_error


# The demo catalogue loads on the embedded backend only (`make run`): this test keeps it.
@pytest.mark.parametrize("settings_overrides", [{"seed_demo_data": True, "mongodb_url": None}])
async def test_embedded_start_loads_a_living_catalogue(client: AsyncClient, settings) -> None:
    assert await Organisation.find_all().count() == 12
    assert await Opportunity.find_all().count() == 60
    assert await Event.find_all().count() == 40
    assert await Profile.find_all().count() == 8
    admins = await User.find(User.role == Role.admin).to_list()
    assert [a.email for a in admins] == ["admin@runwei.example"]
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


@pytest.mark.parametrize("settings_overrides", [{"seed_demo_data": True, "mongodb_url": None}])
async def test_demo_admin_logs_in_on_every_route(capfd, client: AsyncClient) -> None:
    """The printed credentials work on the form login and the JSON login alike."""
    printed = capfd.readouterr().err
    match = re.search(r"email:\s+(\S+)\s+password:\s+(\S+)", printed)
    assert match, printed
    address, password = match.groups()
    form = await client.post("/api/v1/auth/login", data={"username": address, "password": password})
    assert form.status_code == 200, form.text
    json_login = await client.post(
        "/api/v1/auth/login/json", json={"email": address, "password": password}
    )
    assert json_login.status_code == 200, json_login.text


@pytest.mark.parametrize("settings_overrides", [{"seed_demo_data": True, "mongodb_url": None}])
async def test_every_demo_address_passes_the_email_rule(client: AsyncClient) -> None:
    addresses = [u.email for u in await User.find_all().to_list()]
    addresses += [p.contact.email for p in await Partnership.find_all().to_list() if p.contact]
    assert len(addresses) > 10
    for address in addresses:
        assert EMAIL.validate_python(address) == address


@pytest.mark.parametrize("address", ["admin@runwei.local", "a@x.test", "not-an-address"])
async def test_one_email_rule_on_both_login_routes(client: AsyncClient, address: str) -> None:
    form = await client.post("/api/v1/auth/login", data={"username": address, "password": "x" * 12})
    assert_error(form, 422, "VALIDATION_ERROR")
    assert form.json()["error"]["details"][0]["loc"] == ["body", "username"]
    body = await client.post(
        "/api/v1/auth/login/json", json={"email": address, "password": "x" * 12}
    )
    assert_error(body, 422, "VALIDATION_ERROR")


def test_first_admin_email_must_pass_the_rule() -> None:
    with pytest.raises(ValidationError, match="FIRST_ADMIN_EMAIL"):
        Settings(_env_file=None, first_admin_email="admin@runwei.local")
    assert Settings(_env_file=None, first_admin_email="Boss@Example.org").first_admin_email == (
        "boss@example.org"
    )
