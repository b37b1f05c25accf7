"""The caller's own account and the admin user endpoints."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from app.models.user import User
from app.tests.errors import assert_error
from app.tests.factories import UserWithToken


async def test_me_get_and_patch_name(client: AsyncClient, entrepreneur: UserWithToken) -> None:
    response = await client.patch(
        "/api/v1/users/me", headers=entrepreneur.headers, json={"full_name": "New Name"}
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "New Name"
    assert (await client.get("/api/v1/users/me", headers=entrepreneur.headers)).json()[
        "full_name"
    ] == "New Name"


@pytest.mark.parametrize(
    "payload",
    [
        {"role": "admin"},
        {"is_active": False},
        {"is_verified": True},
        {"full_name": "X", "role": "admin"},
        {"email": "other@example.org"},
        {"password_hash": "x"},
        {"$set": {"role": "admin"}},
    ],
)
async def test_me_patch_mass_assignment_rejected(
    client: AsyncClient, entrepreneur: UserWithToken, payload: dict
) -> None:
    response = await client.patch("/api/v1/users/me", headers=entrepreneur.headers, json=payload)
    assert_error(response, 422, "VALIDATION_ERROR")
    stored = await User.get(entrepreneur.user.id)
    assert stored.role == "entrepreneur"
    assert stored.is_active
    assert stored.is_verified is True
    assert stored.full_name == entrepreneur.user.full_name


async def test_change_password_requires_current_and_revokes_other_sessions(
    client: AsyncClient, entrepreneur: UserWithToken
) -> None:
    other = await client.post(
        "/api/v1/auth/login/json",
        json={"email": entrepreneur.email, "password": entrepreneur.password},
    )
    other_token = other.json()["access_token"]
    wrong = await client.post(
        "/api/v1/users/me/password",
        headers=entrepreneur.headers,
        json={"current_password": "not-it-at-all-1", "new_password": "fresh-password-123"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["code"] == "INVALID_CURRENT_PASSWORD"
    ok = await client.post(
        "/api/v1/users/me/password",
        headers=entrepreneur.headers,
        json={"current_password": entrepreneur.password, "new_password": "fresh-password-123"},
    )
    assert ok.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=entrepreneur.headers)).status_code == 200
    other_me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {other_token}"}
    )
    assert_error(other_me, 401, "INVALID_TOKEN")
    relogin = await client.post(
        "/api/v1/auth/login/json",
        json={"email": entrepreneur.email, "password": "fresh-password-123"},
    )
    assert relogin.status_code == 200


# --- admin ----------------------------------------------------------------------------------


def _admin_routes(app) -> list[tuple[str, str]]:
    """Every admin operation the app serves, read from its route table (via the OpenAPI
    paths, FastAPI's public flattened view of nested routers)."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith("/api/v1/admin"):
            continue
        concrete = re.sub(r"\{[^}]+\}", "64b7f0c2a1b2c3d4e5f60718", path)
        routes += [(method.upper(), concrete) for method in operations]
    return routes


# Admin routes that staff (moderators) may use too; every other /admin route is admin-only.
STAFF_ROUTES = {("GET", "/api/v1/admin/moderation")}
# Ingestion and bulk data (issue 13): staff and admins, every route under these.
STAFF_PREFIXES = tuple(
    f"/api/v1/admin/{name}" for name in ("sources", "duplicates", "imports", "exports")
)


async def test_every_admin_route_needs_admin(
    app, client: AsyncClient, entrepreneur, partner, staff
) -> None:
    routes = _admin_routes(app)
    assert len(routes) >= 15
    for method, path in routes:
        anonymous = await client.request(method, path, json={})
        assert_error(anonymous, 401, "NOT_AUTHENTICATED")
        refused = (
            (entrepreneur, partner)
            if (method, path) in STAFF_ROUTES or path.startswith(STAFF_PREFIXES)
            else (entrepreneur, partner, staff)
        )
        for who in refused:
            response = await client.request(method, path, headers=who.headers, json={})
            assert response.status_code == 403, (method, path, who.user.role)
            assert response.json()["error"]["code"] == "INSUFFICIENT_ROLE"


async def test_admin_list_filters_and_paginates(client: AsyncClient, admin, make_user) -> None:
    for i in range(7):
        await make_user(role="partner" if i % 2 else "entrepreneur", email=f"person{i}@corp.test")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3, "include_total": "true"}
        if cursor:
            params["cursor"] = cursor
        page = (
            await client.get("/api/v1/admin/users", headers=admin.headers, params=params)
        ).json()
        assert page["total"] == 8
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 8
    partners = await client.get(
        "/api/v1/admin/users", headers=admin.headers, params={"role": "partner"}
    )
    assert {u["role"] for u in partners.json()["items"]} == {"partner"}
    assert len(partners.json()["items"]) == 3
    text = await client.get("/api/v1/admin/users", headers=admin.headers, params={"q": "PERSON4@"})
    assert [u["email"] for u in text.json()["items"]] == ["person4@corp.test"]
    regex = await client.get("/api/v1/admin/users", headers=admin.headers, params={"q": ".*"})
    assert regex.json()["items"] == []  # text is matched literally, never as a pattern
    by_email = await client.get(
        "/api/v1/admin/users", headers=admin.headers, params={"sort": "email"}
    )
    emails = [u["email"] for u in by_email.json()["items"]]
    assert emails == sorted(emails)


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "password_hash"},
        {"cursor": "not-a-cursor"},
        {"limit": 0},
        {"limit": 101},
        {"role": "god"},
    ],
)
async def test_admin_list_bad_params_are_422(client: AsyncClient, admin, params) -> None:
    response = await client.get("/api/v1/admin/users", headers=admin.headers, params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] in {
        "VALIDATION_ERROR",
        "INVALID_SORT",
        "INVALID_CURSOR",
    }


async def test_admin_get_unknown_and_malformed_ids_are_404(client: AsyncClient, admin) -> None:
    for user_id in ("64b7f0c2a1b2c3d4e5f60718", "not-an-id"):
        response = await client.get(f"/api/v1/admin/users/{user_id}", headers=admin.headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "USER_NOT_FOUND"


async def test_admin_role_change_ends_sessions(client: AsyncClient, admin, entrepreneur) -> None:
    response = await client.patch(
        f"/api/v1/admin/users/{entrepreneur.id}", headers=admin.headers, json={"role": "partner"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "partner"
    assert_error(
        (await client.get("/api/v1/users/me", headers=entrepreneur.headers)), 401, "INVALID_TOKEN"
    )


async def test_last_admin_cannot_demote_or_deactivate_self(
    client: AsyncClient, admin, make_user
) -> None:
    for payload in ({"role": "staff"}, {"is_active": False}):
        response = await client.patch(
            f"/api/v1/admin/users/{admin.id}", headers=admin.headers, json=payload
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "LAST_ADMIN"
    second = await make_user(role="admin")
    demote = await client.patch(
        f"/api/v1/admin/users/{admin.id}", headers=second.headers, json={"role": "staff"}
    )
    assert demote.status_code == 200


async def test_admin_patch_rejects_other_fields(client: AsyncClient, admin, entrepreneur) -> None:
    response = await client.patch(
        f"/api/v1/admin/users/{entrepreneur.id}", headers=admin.headers, json={"password_hash": "x"}
    )
    assert_error(response, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("settings_overrides", [{"login_account_max_failures": 5}])
async def test_admin_unlock(client: AsyncClient, admin, entrepreneur) -> None:
    """ "Locked" is the account-wide login back-off (there is no hard lockout any more)."""
    for _ in range(5):
        await client.post(
            "/api/v1/auth/login/json",
            json={"email": entrepreneur.email, "password": "wrong-pass-000"},
        )
    locked = await client.get(f"/api/v1/admin/users/{entrepreneur.id}", headers=admin.headers)
    assert locked.json()["locked_until"] is not None
    assert locked.json()["failed_logins"] == 5
    listed = await client.get(
        "/api/v1/admin/users", headers=admin.headers, params={"status": "locked"}
    )
    assert [u["id"] for u in listed.json()["items"]] == [entrepreneur.id]
    response = await client.post(
        f"/api/v1/admin/users/{entrepreneur.id}/unlock", headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["locked_until"] is None
    assert response.json()["failed_logins"] == 0
    login = await client.post(
        "/api/v1/auth/login/json",
        json={"email": entrepreneur.email, "password": entrepreneur.password},
    )
    assert login.status_code == 200


async def test_admin_force_password_reset(client: AsyncClient, admin, entrepreneur) -> None:
    from app.tests.api.auth_helpers import outbox_token

    response = await client.post(
        f"/api/v1/admin/users/{entrepreneur.id}/force-password-reset", headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["password_reset_required"]
    assert_error(
        (await client.get("/api/v1/users/me", headers=entrepreneur.headers)), 401, "INVALID_TOKEN"
    )
    blocked = await client.post(
        "/api/v1/auth/login/json",
        json={"email": entrepreneur.email, "password": entrepreneur.password},
    )
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "PASSWORD_RESET_REQUIRED"
    token = await outbox_token(entrepreneur.email, "reset_password")
    reset = await client.post(
        "/api/v1/auth/reset-password", json={"token": token, "new_password": "after-reset-pass-9"}
    )
    assert reset.status_code == 204
    login = await client.post(
        "/api/v1/auth/login/json",
        json={"email": entrepreneur.email, "password": "after-reset-pass-9"},
    )
    assert login.status_code == 200
