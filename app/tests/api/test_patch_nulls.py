"""Regression tests for bugs found by fuzzing the OpenAPI spec with schemathesis:
explicit nulls in PATCH bodies reached the documents (500s, and a reference item stored with
`active: null` broke every later read); stored partner contacts were re-validated as input."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from app.models.organisation import PartnerContact, Partnership, PartnerTier
from app.models.reference import ReferenceItem
from app.tests.errors import assert_error
from app.tests.factories import make_opportunity, make_org


@pytest.mark.parametrize("field", ["active", "name", "position"])
async def test_reference_null_is_422_and_nothing_stored(
    client: AsyncClient, admin, field: str
) -> None:
    response = await client.patch(
        "/api/v1/admin/reference/tags/funding", headers=admin.headers, json={field: None}
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert (await client.get("/api/v1/reference/tags")).status_code == 200
    item = await ReferenceItem.find_one({"kind": "tags", "slug": "funding"})
    assert item.active is True


async def test_reference_clearable_field(client: AsyncClient, admin) -> None:
    response = await client.patch(
        "/api/v1/admin/reference/tags/funding", headers=admin.headers, json={"description": None}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body", [{"industries": None}, {"title": None}, {"type": None}, {"rolling": None}]
)
async def test_opportunity_null_is_422(client: AsyncClient, partner, body) -> None:
    org = await make_org(client, partner)
    item = await make_opportunity(client, partner, org["id"])
    response = await client.patch(
        f"/api/v1/opportunities/{item['id']}", headers=partner.headers, json=body
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert (
        await client.get(f"/api/v1/opportunities/{item['id']}", headers=partner.headers)
    ).json()["version"] == 1


async def test_opportunity_clear_deadline_and_amounts(client: AsyncClient, partner) -> None:
    org = await make_org(client, partner)
    item = await make_opportunity(client, partner, org["id"])
    response = await client.patch(
        f"/api/v1/opportunities/{item['id']}",
        headers=partner.headers,
        json={"deadline": None, "amount_min": None, "amount_max": None, "currency": None},
    )
    assert response.status_code == 200
    assert response.json()["deadline"] is None
    assert response.json()["currency"] is None


async def test_organisation_and_profile_nulls(client: AsyncClient, partner, entrepreneur) -> None:
    org = await make_org(client, partner, country="KE")
    assert (
        await client.patch(
            f"/api/v1/organisations/{org['id']}", headers=partner.headers, json={"type": None}
        )
    ).status_code == 422
    cleared = await client.patch(
        f"/api/v1/organisations/{org['id']}", headers=partner.headers, json={"country": None}
    )
    assert cleared.json()["country"] is None
    await client.put(
        "/api/v1/profiles/me",
        headers=entrepreneur.headers,
        json={"display_name": "A", "business_name": "B", "city": "Nairobi"},
    )
    bad = await client.patch(
        "/api/v1/profiles/me",
        headers=entrepreneur.headers,
        json={"display_name": None, "industries": None},
    )
    assert_error(bad, 422, "VALIDATION_ERROR")
    ok = await client.patch(
        "/api/v1/profiles/me", headers=entrepreneur.headers, json={"city": None}
    )
    assert ok.json()["city"] is None


async def test_stored_partner_contact_is_readable(client: AsyncClient, admin, partner) -> None:
    org = await make_org(client, partner)
    # Seeded data may hold addresses the input schema would not accept (e.g. *.local).
    await Partnership(
        organisation_id=org["id"],
        organisation_name=org["name"],
        organisation_slug=org["slug"],
        tier=PartnerTier.gold,
        contact=PartnerContact(name="Seed", email="partner@demo.runwei.example"),
        start_date="2026-01-01T00:00:00Z",
    ).insert()
    listed = await client.get("/api/v1/admin/partners", headers=admin.headers)
    assert listed.status_code == 200
    assert listed.json()["items"][0]["contact"]["email"] == "partner@demo.runwei.example"
    end = await client.patch(
        f"/api/v1/admin/partners/{listed.json()['items'][0]['id']}",
        headers=admin.headers,
        json={"end_date": None},
    )
    assert end.status_code == 200
