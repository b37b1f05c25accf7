"""Partnerships: admin-managed, public while active, contact details private."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from httpx import AsyncClient

from app.models.audit import AuditEntry
from app.tests.errors import assert_error
from app.tests.factories import make_org


def _today() -> date:
    return datetime.now(UTC).date()


async def test_admin_crud_and_public_listing(client: AsyncClient, admin, partner) -> None:
    org = await make_org(client, partner, name="Partner Org")
    body = {
        "organisation_id": org["id"],
        "tier": "gold",
        "status": "active",
        "contact": {"name": "Pat", "email": "pat@example.org", "phone": "+254 700 000000"},
        "start_date": str(_today() - timedelta(days=1)),
    }
    created = await client.post("/api/v1/admin/partners", headers=admin.headers, json=body)
    assert created.status_code == 201
    partnership = created.json()
    assert partnership["contact"]["email"] == "pat@example.org"
    duplicate = await client.post("/api/v1/admin/partners", headers=admin.headers, json=body)
    assert_error(duplicate, 409, "PARTNER_EXISTS")
    public = (await client.get("/api/v1/partners")).json()["items"]
    assert [p["organisation_name"] for p in public] == ["Partner Org"]
    assert public[0]["contact"] is None
    one = await client.get(f"/api/v1/partners/{partnership['id']}")
    assert one.status_code == 200
    assert one.json()["contact"] is None

    suspended = await client.patch(
        f"/api/v1/admin/partners/{partnership['id']}",
        headers={**admin.headers, "If-Match": '"1"'},
        json={"status": "suspended"},
    )
    assert suspended.status_code == 200
    assert (await client.get("/api/v1/partners")).json()["items"] == []
    assert_error(
        (await client.get(f"/api/v1/partners/{partnership['id']}")), 404, "PARTNER_NOT_FOUND"
    )
    stale = await client.patch(
        f"/api/v1/admin/partners/{partnership['id']}",
        headers={**admin.headers, "If-Match": '"1"'},
        json={"status": "active"},
    )
    assert_error(stale, 412, "VERSION_MISMATCH")

    deleted = await client.delete(
        f"/api/v1/admin/partners/{partnership['id']}", headers=admin.headers
    )
    assert deleted.status_code == 204
    actions = [e.action async for e in AuditEntry.find(AuditEntry.entity == "partner")]
    assert actions == ["create", "update", "delete"]


async def test_dates_bound_public_listing(client: AsyncClient, admin, partner) -> None:
    future = await make_org(client, partner, name="Future Partner")
    ended = await make_org(client, partner, name="Ended Partner")
    for org, start, end in (
        (future, _today() + timedelta(days=5), None),
        (ended, _today() - timedelta(days=30), _today() - timedelta(days=1)),
    ):
        response = await client.post(
            "/api/v1/admin/partners",
            headers=admin.headers,
            json={
                "organisation_id": org["id"],
                "tier": "silver",
                "status": "active",
                "contact": {"name": "C", "email": "c@example.org"},
                "start_date": str(start),
                "end_date": str(end) if end else None,
            },
        )
        assert response.status_code == 201
    assert (await client.get("/api/v1/partners")).json()["items"] == []


async def test_validation(client: AsyncClient, admin, partner) -> None:
    org = await make_org(client, partner)
    bad_dates = await client.post(
        "/api/v1/admin/partners",
        headers=admin.headers,
        json={
            "organisation_id": org["id"],
            "tier": "gold",
            "contact": {"name": "C", "email": "c@example.org"},
            "start_date": "2026-05-01",
            "end_date": "2026-04-01",
        },
    )
    assert_error(bad_dates, 422, "VALIDATION_ERROR")
    unknown_org = await client.post(
        "/api/v1/admin/partners",
        headers=admin.headers,
        json={
            "organisation_id": "64b7f0c2a1b2c3d4e5f60718",
            "tier": "gold",
            "contact": {"name": "C", "email": "c@example.org"},
            "start_date": "2026-05-01",
        },
    )
    assert_error(unknown_org, 404, "ORGANISATION_NOT_FOUND")
