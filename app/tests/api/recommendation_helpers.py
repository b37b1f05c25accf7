"""Helpers for the recommendation tests: profiles, published items, ranked lists."""

from __future__ import annotations

import asyncio
from typing import Any

from app.tests.factories import API, make_event, make_opportunity

FULL_PROFILE: dict[str, Any] = {
    "display_name": "Amina",
    "business_name": "Shamba Fresh",
    "bio": "We help smallholder farmers sell fresh vegetables to city markets.",
    "stage": "early_revenue",
    "founded_year": 2021,
    "team_size": 6,
    "revenue_band": "10k_100k",
    "industries": ["agriculture-food"],
    "country": "KE",
    "region": "Nairobi",
    "target_communities": ["women-founders"],
    "sdgs": ["sdg-2"],
    "interests": ["funding"],
    "funding": {"amount_min": 500_000, "amount_max": 2_000_000, "currency": "USD"},
}
# Eligibility rules FULL_PROFILE meets, one per criterion.
MET_RULES: dict[str, Any] = {
    "industries": ["agriculture-food"],
    "stages": ["early_revenue", "growth"],
    "countries": ["KE"],
    "regions": ["Nairobi"],
    "target_communities": ["women-founders"],
    "min_years_in_business": 1,
    "max_years_in_business": 10,
    "min_team_size": 2,
    "max_team_size": 50,
    "revenue_bands": ["10k_100k"],
}


async def put_profile(client, user, **fields) -> dict:
    body = {**FULL_PROFILE, **fields}
    response = await client.put(f"{API}/profiles/me", headers=user.headers, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def published(client, partner, staff, org: dict, **fields) -> dict:
    return await make_opportunity(client, partner, org["id"], publish_as=staff, **fields)


async def published_event(client, partner, staff, org: dict, **fields) -> dict:
    return await make_event(client, partner, org["id"], publish_as=staff, **fields)


async def recommended(client, user, kind: str = "opportunities", **params: object) -> dict:
    response = await client.get(
        f"{API}/me/recommendations/{kind}", headers=user.headers, params=params
    )
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict) -> list[str]:
    return [entry["item"]["id"] for entry in page["items"]]


def reasons_of(page: dict, item_id: str) -> dict[str, dict]:
    entry = next(e for e in page["items"] if e["item"]["id"] == item_id)
    return {r["criterion"]: r for r in entry["reasons"]}


async def settle(app) -> None:
    """Wait for the background tasks the last requests enqueued (in-process runtime)."""
    await asyncio.wait_for(app.state.tasks.drain(), timeout=30)
