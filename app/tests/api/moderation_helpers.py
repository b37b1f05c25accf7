"""Fixtures and helpers for the moderation tests: an organisation, a live opportunity."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from app.models.audit import AuditEntry
from app.tests.factories import make_opportunity, make_org

OPP = "/api/v1/opportunities"
EVT = "/api/v1/events"


@pytest.fixture
async def org(client: AsyncClient, partner):
    return await make_org(client, partner, name="Moderated Org")


@pytest.fixture
async def live(client: AsyncClient, partner, staff, org):
    """A published opportunity (title 'Original Grant', amounts 100k–500k USD)."""
    return await make_opportunity(
        client, partner, org["id"], publish_as=staff, title="Original Grant"
    )


def _etag(response) -> dict[str, str]:
    return {"If-Match": response.headers["etag"]}


async def _actions(item_id: str) -> list[str]:
    return [e.action async for e in AuditEntry.find(AuditEntry.entity_id == item_id).sort("+at")]
