"""Helpers for ingestion tests: a source through the API, a run through the API."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from app import email
from app.tests.factories import UserWithToken

API = "/api/v1"
OVERRIDES = {"ingest_allow_private_networks": True, "task_scheduler_enabled": False}


async def make_source(
    client: AsyncClient, staff: UserWithToken, org_id: str, url: str, **fields: Any
) -> dict[str, Any]:
    body = {
        "name": "Test source",
        "kind": "feed",
        "target": "opportunity",
        "url": url,
        "organisation_id": org_id,
        "defaults": {"type": "grant"},
        **fields,
    }
    response = await client.post(f"{API}/admin/sources", headers=staff.headers, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def run_now(client: AsyncClient, staff: UserWithToken, source_id: str) -> dict[str, Any]:
    """Ask for a run, let the in-process worker finish it, read the run back."""
    response = await client.post(f"{API}/admin/sources/{source_id}/run", headers=staff.headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    await email.drain()  # waits for every task of the running app
    run = await client.get(response.headers["location"], headers=staff.headers)
    assert run.status_code == 200, run.text
    return dict(run.json())


async def items(
    client: AsyncClient, staff: UserWithToken, kind: str, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        f"{API}/{kind}",
        headers=staff.headers,
        params={"status": "pending_review", "limit": 100, **params},
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])
