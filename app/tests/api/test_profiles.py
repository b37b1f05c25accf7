"""Business profiles: one per user, visibility, private demographics, validation."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from app.tests.errors import assert_error

PROFILE = {
    "display_name": "Amina",
    "business_name": "Amina Agro",
    "bio": "Solar drying for smallholders.",
    "stage": "early_revenue",
    "founded_year": 2021,
    "team_size": 6,
    "revenue_band": "10k_100k",
    "industries": ["agriculture-food", "clean-energy"],
    "country": "ke",
    "city": "Nakuru",
    "target_communities": ["women-founders"],
    "sdgs": ["sdg-2", "sdg-7"],
    "interests": ["funding"],
    "website": "https://amina.example",
    "social_links": [{"platform": "linkedin", "url": "https://linkedin.com/in/amina"}],
    "visibility": "public",
    "demographics": {"gender": "female", "age_range": "25-34"},
}


async def test_put_creates_then_replaces(client: AsyncClient, entrepreneur) -> None:
    assert (
        await client.get("/api/v1/profiles/me", headers=entrepreneur.headers)
    ).status_code == 404
    created = await client.put("/api/v1/profiles/me", headers=entrepreneur.headers, json=PROFILE)
    assert created.status_code == 201
    body = created.json()
    assert body["country"] == "KE"
    assert body["demographics"]["gender"] == "female"
    replaced = await client.put(
        "/api/v1/profiles/me",
        headers={**entrepreneur.headers, "If-Match": '"1"'},
        json={**PROFILE, "team_size": 7},
    )
    assert replaced.status_code == 200
    assert replaced.json()["team_size"] == 7
    assert replaced.headers["etag"] == '"2"'
    stale = await client.patch(
        "/api/v1/profiles/me",
        headers={**entrepreneur.headers, "If-Match": '"1"'},
        json={"team_size": 8},
    )
    assert_error(stale, 412, "VERSION_MISMATCH")
    patched = await client.patch(
        "/api/v1/profiles/me", headers=entrepreneur.headers, json={"bio": "New bio"}
    )
    assert patched.json()["bio"] == "New bio"
    assert patched.json()["team_size"] == 7


async def test_demographics_only_for_owner_and_admin(
    client: AsyncClient, entrepreneur, admin, make_user
) -> None:
    other = await make_user()
    profile = (
        await client.put("/api/v1/profiles/me", headers=entrepreneur.headers, json=PROFILE)
    ).json()
    url = f"/api/v1/profiles/{profile['id']}"
    assert (await client.get(url)).json()["demographics"] is None
    assert (await client.get(url, headers=other.headers)).json()["demographics"] is None
    assert (await client.get(url, headers=admin.headers)).json()["demographics"][
        "gender"
    ] == "female"
    listed = (await client.get("/api/v1/profiles")).json()["items"]
    assert listed[0]["demographics"] is None


@pytest.mark.parametrize(
    ("visibility", "anonymous", "member", "owner"),
    [("public", 200, 200, 200), ("members", 404, 200, 200), ("private", 404, 404, 200)],
)
async def test_visibility_matrix(
    client: AsyncClient, entrepreneur, make_user, visibility, anonymous, member, owner
) -> None:
    other = await make_user()
    profile = (
        await client.put(
            "/api/v1/profiles/me",
            headers=entrepreneur.headers,
            json={**PROFILE, "visibility": visibility},
        )
    ).json()
    url = f"/api/v1/profiles/{profile['id']}"
    assert (await client.get(url)).status_code == anonymous
    assert (await client.get(url, headers=other.headers)).status_code == member
    assert (await client.get(url, headers=entrepreneur.headers)).status_code == owner
    listed_anon = [p["id"] for p in (await client.get("/api/v1/profiles")).json()["items"]]
    assert (profile["id"] in listed_anon) == (anonymous == 200)


@pytest.mark.parametrize(
    ("patch", "code"),
    [
        ({"user_id": "64b7f0c2a1b2c3d4e5f60718"}, "VALIDATION_ERROR"),
        ({"version": 99}, "VALIDATION_ERROR"),
        ({"stage": "unicorn"}, "VALIDATION_ERROR"),
        ({"country": "ZZ"}, "VALIDATION_ERROR"),
        ({"founded_year": 1200}, "VALIDATION_ERROR"),
        ({"industries": ["underwater-basket-weaving"]}, "UNKNOWN_REFERENCE"),
        (
            {"social_links": [{"platform": "myspace", "url": "https://x.example"}]},
            "VALIDATION_ERROR",
        ),
        ({"website": "ftp://old.example"}, "VALIDATION_ERROR"),
    ],
)
async def test_invalid_patches(client: AsyncClient, entrepreneur, patch, code) -> None:
    await client.put("/api/v1/profiles/me", headers=entrepreneur.headers, json=PROFILE)
    response = await client.patch("/api/v1/profiles/me", headers=entrepreneur.headers, json=patch)
    assert_error(response, 422, code)
    assert (await client.get("/api/v1/profiles/me", headers=entrepreneur.headers)).json()[
        "version"
    ] == 1
