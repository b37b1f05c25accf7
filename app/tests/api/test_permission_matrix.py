"""The permission matrix for opportunities and events: every caller × every action.

Callers: anonymous, entrepreneur, partner of the owning org, partner of another org,
staff, admin. Things you may not know exist answer 404, not 403.
"""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from app.tests.factories import make_event, make_opportunity, make_org

CALLERS = ["anonymous", "entrepreneur", "own_partner", "other_partner", "staff", "admin"]

# action -> (method, suffix, body, expected status per caller) on a DRAFT item
DRAFT_MATRIX = {
    "read": ("GET", "", None, [404, 404, 200, 404, 200, 200]),
    "edit": ("PATCH", "", {"title": "Changed title"}, [401, 404, 200, 404, 200, 200]),
    "submit": ("POST", "/submit", None, [401, 404, 200, 404, 200, 200]),
    "publish": ("POST", "/publish", None, [401, 404, 403, 404, 200, 200]),
    "archive": ("DELETE", "", None, [401, 404, 204, 404, 204, 204]),
}
# the same on a PUBLISHED item
PUBLISHED_MATRIX = {
    "read": ("GET", "", None, [200, 200, 200, 200, 200, 200]),
    # A member's edit to approved content waits for staff (202); staff edits are live.
    "edit": ("PATCH", "", {"title": "Changed title"}, [401, 403, 202, 403, 200, 200]),
    "close": ("POST", "/close", None, [401, 403, 200, 403, 200, 200]),
    "approve": ("POST", "/approve", None, [401, 403, 403, 403, 409, 409]),
    "purge": ("DELETE", "/purge", None, [401, 403, 403, 403, 403, 409]),
}


@pytest.fixture
async def callers(client: AsyncClient, make_user, partner, staff, admin, entrepreneur):
    other = await make_user(role="partner")
    return {
        "anonymous": {},
        "entrepreneur": entrepreneur.headers,
        "own_partner": partner.headers,
        "other_partner": other.headers,
        "staff": staff.headers,
        "admin": admin.headers,
    }


async def _item(client, kind, partner, staff, published: bool) -> dict:
    org = await make_org(client, partner)
    maker = make_opportunity if kind == "opportunities" else make_event
    return await maker(client, partner, org["id"], publish_as=staff if published else None)


@pytest.mark.parametrize("kind", ["opportunities", "events"])
@pytest.mark.parametrize(("matrix", "published"), [(DRAFT_MATRIX, False), (PUBLISHED_MATRIX, True)])
async def test_matrix(
    client: AsyncClient, callers, partner, staff, kind, matrix, published
) -> None:
    for action, (method, suffix, body, expected) in matrix.items():
        for caller, status in zip(CALLERS, expected, strict=True):
            item = await _item(client, kind, partner, staff, published)  # fresh item per call
            response = await client.request(
                method, f"/api/v1/{kind}/{item['id']}{suffix}", headers=callers[caller], json=body
            )
            assert response.status_code == status, (kind, action, caller, response.text)
