"""Developers finish every flow locally: the dev outbox (embedded default only, never in
production) and the console line of a queued e-mail with its link."""

from __future__ import annotations

import re

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app import email
from app.main import create_app
from app.tests.api.auth_helpers import PASSWORD, register
from app.tests.conftest import make_settings
from app.tests.errors import assert_error

OUTBOX = "/api/v1/dev/outbox"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """The outbox route exists on the embedded default only (even when the suite runs
    against MONGODB_URL)."""
    return {"mongodb_url": None}


async def test_register_then_verify_through_the_outbox(client: AsyncClient) -> None:
    assert (await register(client, email="dev@example.org")).status_code == 201
    await register(client, email="other@example.org")
    await email.drain()
    page = await client.get(OUTBOX, params={"to": "DEV@example.org", "limit": 1})
    assert page.status_code == 200, page.text
    [mail] = page.json()["items"]
    assert mail["to"] == "dev@example.org"
    assert mail["template"] == "verify_email"
    assert mail["created_at"].endswith("Z")
    [link] = mail["links"]
    token = re.search(r"token=([A-Za-z0-9_-]+)", link).group(1)
    assert (
        await client.post("/api/v1/auth/verify-email", json={"token": token})
    ).status_code == 204
    everyone = (await client.get(OUTBOX, params={"include_total": "true"})).json()
    assert everyone["total"] == 2
    assert [m["to"] for m in everyone["items"]] == ["other@example.org", "dev@example.org"]


async def test_outbox_pages_and_validates(client: AsyncClient) -> None:
    for i in range(3):
        await register(client, email=f"p{i}@example.org")
    await email.drain()
    first = (await client.get(OUTBOX, params={"limit": 2})).json()
    second = (await client.get(OUTBOX, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    seen = [m["to"] for m in first["items"] + second["items"]]
    assert sorted(seen) == ["p0@example.org", "p1@example.org", "p2@example.org"]
    assert second["next_cursor"] is None
    assert_error(await client.get(OUTBOX, params={"to": "not-an-address"}), 422, "VALIDATION_ERROR")
    assert_error(await client.get(OUTBOX, params={"nope": "1"}), 422, "VALIDATION_ERROR")


async def test_production_does_not_expose_the_outbox() -> None:
    settings = make_settings(
        environment="production",
        secret_key="p" * 40,
        mongodb_url="mongodb://127.0.0.1:1/x",
        public_base_url="https://api.runwei.example",
    )
    assert settings.dev_endpoints is False
    app = create_app(settings)  # no lifespan needed: the route table and the spec
    assert not any("/dev/" in path for path in app.openapi()["paths"])
    assert "dev" not in {t["name"] for t in app.openapi()["tags"]}
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert_error(await client.get(OUTBOX), 404, "NOT_FOUND")


async def test_a_real_database_does_not_expose_the_outbox() -> None:
    settings = make_settings(mongodb_url="mongodb://127.0.0.1:1/x")
    assert settings.dev_endpoints is False
    app = create_app(settings)
    assert not any("/dev/" in path for path in app.openapi()["paths"])


@pytest.mark.parametrize(
    "settings_overrides", [{"environment": "development", "mongodb_url": None}]
)
async def test_development_console_shows_the_link_of_a_queued_email(
    capfd, client: AsyncClient
) -> None:
    capfd.readouterr()
    await register(client, email="link@example.org")
    await email.drain()
    err = capfd.readouterr().err
    line = next(ln for ln in err.splitlines() if "email_queued_to_outbox" in ln and "link=" in ln)
    mail = (await client.get(OUTBOX, params={"to": "link@example.org"})).json()["items"][0]
    assert mail["links"][0] in line
    assert "template=verify_email" in line


async def test_the_log_pipeline_never_carries_the_link(capfd) -> None:
    """Outside development (here: test) the link is not printed; the log line has none."""
    settings = make_settings(log_level="INFO", mongodb_url=None)
    app = create_app(settings)
    async with LifespanManager(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            capfd.readouterr()
            await client.post(
                "/api/v1/auth/register",
                json={"email": "quiet@example.org", "password": PASSWORD, "full_name": "Q"},
            )
            await email.drain()
            mail = (await client.get(OUTBOX, params={"to": "quiet@example.org"})).json()
    err = capfd.readouterr().err
    assert "email_queued_to_outbox" in err
    assert mail["items"][0]["links"][0].split("token=")[1] not in err
