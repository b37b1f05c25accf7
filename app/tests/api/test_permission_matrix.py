"""The permission matrix for opportunities and events: every caller × every action.

Callers: anonymous, entrepreneur, partner of the owning org, partner of another org,
staff, admin. Things you may not know exist answer 404, not 403.
"""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from app.tests.factories import make_event, make_opportunity, make_org

CALLERS = ["anonymous", "entrepreneur", "own_partner", "other_partner", "staff", "admin"]

# Refusals with their error codes (401 and 404 have one each, checked in the test).
MEMBERS = "403 NOT_ORGANISATION_MEMBER"
STAFF = "403 STAFF_ONLY"
ADMINS = "403 ADMIN_ONLY"
Matrix = dict[str, tuple[str, str, dict[str, str] | None, list[int | str]]]
# action -> (method, suffix, body, expected answer per caller) on a DRAFT item
DRAFT_MATRIX: Matrix = {
    "read": ("GET", "", None, [404, 404, 200, 404, 200, 200]),
    "edit": ("PATCH", "", {"title": "Changed title"}, [401, 404, 200, 404, 200, 200]),
    "submit": ("POST", "/submit", None, [401, 404, 200, 404, 200, 200]),
    "publish": ("POST", "/publish", None, [401, 404, STAFF, 404, 200, 200]),
    "archive": ("DELETE", "", None, [401, 404, 204, 404, 204, 204]),
}
# the same on a PUBLISHED item
PUBLISHED_MATRIX: Matrix = {
    "read": ("GET", "", None, [200, 200, 200, 200, 200, 200]),
    # A member's edit to approved content waits for staff (202); staff edits are live.
    "edit": ("PATCH", "", {"title": "Changed title"}, [401, MEMBERS, 202, MEMBERS, 200, 200]),
    "close": ("POST", "/close", None, [401, MEMBERS, 200, MEMBERS, 200, 200]),
    "approve": ("POST", "/approve", None, [401, STAFF, STAFF, STAFF, "409 INVALID_TRANSITION",
                                           "409 INVALID_TRANSITION"]),
    "purge": ("DELETE", "/purge", None, [401, ADMINS, ADMINS, ADMINS, ADMINS, "409 NOT_ARCHIVED"]),
}  # fmt: skip


CELLS = [
    pytest.param(kind, published, action, caller, answer, id=f"{kind}-{state}-{action}-{caller}")
    for kind in ("opportunities", "events")
    for state, published, matrix in (
        ("draft", False, DRAFT_MATRIX),
        ("published", True, PUBLISHED_MATRIX),
    )
    for action, (_, _, _, answers) in matrix.items()
    for caller, answer in zip(CALLERS, answers, strict=True)
]


async def _caller_headers(caller: str, make_user, partner, staff, admin) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller == "own_partner":
        return partner.headers
    if caller == "staff":
        return staff.headers
    if caller == "admin":
        return admin.headers
    role = "entrepreneur" if caller == "entrepreneur" else "partner"
    return (await make_user(role=role)).headers


async def _item(client, kind, partner, staff, published: bool) -> dict:
    org = await make_org(client, partner)
    maker = make_opportunity if kind == "opportunities" else make_event
    return await maker(client, partner, org["id"], publish_as=staff if published else None)


@pytest.mark.parametrize(("kind", "published", "action", "caller", "answer"), CELLS)
async def test_matrix_cell(
    client: AsyncClient, make_user, partner, staff, admin, kind, published, action, caller, answer
) -> None:
    """One cell of the matrix: one caller, one action, on a fresh item."""
    status, _, code = str(answer).partition(" ")
    code = code or {
        "401": "NOT_AUTHENTICATED",
        "404": "OPPORTUNITY_NOT_FOUND" if kind == "opportunities" else "EVENT_NOT_FOUND",
    }.get(status, "")
    method, suffix, body, _ = (PUBLISHED_MATRIX if published else DRAFT_MATRIX)[action]
    item = await _item(client, kind, partner, staff, published)
    headers = await _caller_headers(caller, make_user, partner, staff, admin)
    response = await client.request(
        method, f"/api/v1/{kind}/{item['id']}{suffix}", headers=headers, json=body
    )
    assert response.status_code == int(status), response.text
    if code:  # a refusal says why, not only how
        assert response.json()["error"]["code"] == code, response.text
