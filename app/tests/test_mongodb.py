"""Tests that need a real MongoDB (`-m mongodb`); they skip when MONGODB_URL is unset.

CI's `mongodb` job runs the whole suite against a `mongo` service container (see
.github/workflows/test.yml); these are the tests that only mean something there
(concurrency that really interleaves, declared indexes, TTL options, query plans).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.main import create_app
from app.tests.conftest import make_settings

pytestmark = pytest.mark.mongodb


@pytest.fixture
async def real_app(tmp_path) -> AsyncIterator:
    """An app on a fresh database of MONGODB_URL's server (as every test's app is when
    MONGODB_URL is set; these tests are the ones that need it), dropped after the test."""
    settings = make_settings(rate_limit_enabled=False, storage_local_dir=str(tmp_path / "media"))
    assert settings.mongodb_url is not None
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60):
        yield app


@pytest.fixture
async def real_client(real_app) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=real_app), base_url="http://t") as c:
        yield c


async def test_declared_indexes_exist(real_app) -> None:
    db = real_app.state.database.db
    users = await db["users"].index_information()
    assert users["email_unique"]["unique"] is True
    for collection in ("revoked_tokens", "auth_sessions", "one_time_tokens"):
        info = await db[collection].index_information()
        assert info["ttl_expires"]["expireAfterSeconds"] == 0, collection


async def test_unique_email_under_concurrency(real_client: AsyncClient) -> None:
    body = {"email": "race@example.org", "password": "a-long-enough-secret-42", "full_name": "R"}
    responses = await asyncio.gather(
        *(real_client.post("/api/v1/auth/register", json=body) for _ in range(50))
    )
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 1
    assert codes.count(409) == 49


async def test_login_refresh_logout_on_real_mongodb(real_client: AsyncClient) -> None:
    body = {"email": "flow@example.org", "password": "a-long-enough-secret-42", "full_name": "F"}
    assert (await real_client.post("/api/v1/auth/register", json=body)).status_code == 201
    login = await real_client.post(
        "/api/v1/auth/login/json", json={"email": body["email"], "password": body["password"]}
    )
    pair = login.json()
    rotated = await real_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert rotated.status_code == 200
    replay = await real_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert replay.status_code == 401
    me = await real_client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {rotated.json()['access_token']}"}
    )
    assert me.status_code == 401


async def _publisher(real_app, role: str = "partner"):
    from app.tests.factories import make_user

    return await make_user(real_app.state.settings, role=role)


async def test_search_geo_and_facets_on_real_mongodb(real_app, real_client: AsyncClient) -> None:
    from app.tests.factories import make_event, make_opportunity, make_org

    partner = await _publisher(real_app)
    staff = await _publisher(real_app, "staff")
    org = await make_org(real_client, partner, name="Fondation Énergie")
    await make_opportunity(
        real_client, partner, org["id"], publish_as=staff, title="Café Growth Grant"
    )
    await make_opportunity(
        real_client, partner, org["id"], publish_as=staff, title="Solar Loan", type="loan"
    )
    found = (await real_client.get("/api/v1/opportunities", params={"q": "CAFE grants"})).json()[
        "items"
    ]
    assert [i["title"] for i in found] == ["Café Growth Grant"]
    facets = (await real_client.get("/api/v1/opportunities", params={"facets": "type"})).json()[
        "facets"
    ]
    assert {f["value"]: f["count"] for f in facets["type"]} == {"grant": 1, "loan": 1}
    near = await make_event(real_client, partner, org["id"], publish_as=staff, title="Near")
    await make_event(
        real_client, partner, org["id"], publish_as=staff, title="Far",
        venue={"city": "Mombasa", "country": "KE", "lat": -4.0435, "lng": 39.6682},
    )  # fmt: skip
    response = await real_client.get(
        "/api/v1/events", params={"near_lat": -1.28, "near_lng": 36.82, "radius_km": 50}
    )
    assert [i["id"] for i in response.json()["items"]] == [near["id"]]


async def test_rsvp_capacity_under_concurrency_on_real_mongodb(
    real_app, real_client: AsyncClient
) -> None:
    from app.tests.factories import make_event, make_org, make_user

    partner = await _publisher(real_app)
    staff = await _publisher(real_app, "staff")
    org = await make_org(real_client, partner)
    event = await make_event(real_client, partner, org["id"], publish_as=staff, capacity=10)
    crowd = [await make_user(real_app.state.settings) for _ in range(50)]
    responses = await asyncio.gather(
        *(
            real_client.put(f"/api/v1/events/{event['id']}/rsvp", headers=u.headers, json={})
            for u in crowd
        )
    )
    outcomes = [r.json()["status"] for r in responses]
    assert outcomes.count("going") == 10
    assert outcomes.count("waitlisted") == 40


async def test_list_queries_are_served_by_indexes(real_app) -> None:
    """Every sort the lists offer, with the public status filter, uses an index (no COLLSCAN)."""
    from app.services import events, opportunities

    db = real_app.state.database.db
    for kind in (opportunities.KIND, events.KIND):
        collection = db[kind.model.get_settings().name]
        for sort in kind.sorts.values():
            filters = (
                {"status": "published"} if sort.name != "updated" else {"updated_at": {"$gt": 0}}
            )
            plan = (
                await collection.find(filters)
                .sort([(sort.field, sort.direction), ("_id", sort.direction)])
                .explain()
            )
            assert "COLLSCAN" not in str(plan["queryPlanner"]["winningPlan"]), (
                kind.entity,
                sort.name,
            )
