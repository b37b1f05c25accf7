"""Admin changes to users are audited, and the last active admin survives concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.config import Settings
from app.core.exceptions import Conflict
from app.models.user import Role, User
from app.schemas.user import AdminUserUpdate
from app.services import admin_roster
from app.services import users as user_service
from app.services.auth import Principal
from app.tests.errors import assert_error
from app.tests.factories import UserWithToken

ADMIN_USERS = "/api/v1/admin/users"

DB_OPERATIONS = (
    "count_documents",
    "delete_many",
    "delete_one",
    "find_one",
    "find_one_and_update",
    "insert_one",
    "update_many",
    "update_one",
)


@pytest.fixture
def networked_db(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every operation of the embedded database a suspension point, as a round trip to a
    real MongoDB is: without it the in-memory backend runs a whole check-then-set without
    letting another request in, and a race could never show here."""
    from mongomock_motor import AsyncCursor, AsyncMongoMockCollection

    def yielding(original: Any) -> Any:
        async def operation(self: Any, *args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(0)
            return await original(self, *args, **kwargs)

        return operation

    for name in DB_OPERATIONS:
        monkeypatch.setattr(
            AsyncMongoMockCollection, name, yielding(getattr(AsyncMongoMockCollection, name))
        )
    monkeypatch.setattr(AsyncCursor, "next", yielding(AsyncCursor.next))


async def _active_admins() -> int:
    return await User.find(User.role == Role.admin, User.is_active == True).count()  # noqa: E712


def principal(who: UserWithToken) -> Principal:
    assert who.user.id is not None
    return Principal(
        id=who.user.id,
        role=who.user.role,
        jti="test",
        sid="test",
        exp=datetime.now(UTC) + timedelta(minutes=5),
    )


@pytest.mark.parametrize("settings_overrides", [{"login_account_max_failures": 3}])
async def test_every_admin_change_to_a_user_is_audited(
    client: AsyncClient, admin: UserWithToken, entrepreneur: UserWithToken
) -> None:
    url = f"{ADMIN_USERS}/{entrepreneur.id}"
    assert (
        await client.patch(url, headers=admin.headers, json={"role": "partner"})
    ).status_code == 200
    assert (
        await client.patch(url, headers=admin.headers, json={"is_active": False})
    ).status_code == 200
    assert (
        await client.patch(url, headers=admin.headers, json={"is_active": True})
    ).status_code == 200
    for _ in range(3):  # an account-wide login back-off, for the unlock to undo
        await client.post(
            "/api/v1/auth/login/json", json={"email": entrepreneur.email, "password": "nope-nope-1"}
        )
    assert (await client.post(f"{url}/unlock", headers=admin.headers)).status_code == 200
    assert (
        await client.post(f"{url}/force-password-reset", headers=admin.headers)
    ).status_code == 200

    log = await client.get(
        "/api/v1/admin/audit",
        headers=admin.headers,
        params={"entity": "user", "entity_id": entrepreneur.id},
    )
    entries = log.json()["items"][::-1]  # oldest first
    assert [e["action"] for e in entries] == [
        "update",
        "update",
        "update",
        "unlock",
        "force_password_reset",
    ]
    assert all(e["actor_id"] == admin.id and e["actor_role"] == "admin" for e in entries)
    assert all(e["request_id"] for e in entries)
    assert entries[0]["changes"] == {"role": {"before": "entrepreneur", "after": "partner"}}
    assert entries[1]["changes"] == {"is_active": {"before": True, "after": False}}
    assert entries[2]["changes"] == {"is_active": {"before": False, "after": True}}
    assert entries[3]["changes"]["failed_logins"] == {"before": 3, "after": 0}
    assert entries[3]["changes"]["locked_until"]["after"] is None
    assert entries[3]["changes"]["locked_until"]["before"] is not None
    assert entries[4]["changes"] == {"password_reset_required": {"before": False, "after": True}}
    # The actor's filter finds them too.
    by_actor = await client.get(
        "/api/v1/admin/audit", headers=admin.headers, params={"actor_id": admin.id}
    )
    assert len(by_actor.json()["items"]) == 5


async def test_a_refused_change_is_not_audited(client: AsyncClient, admin: UserWithToken) -> None:
    refused = await client.patch(
        f"{ADMIN_USERS}/{admin.id}", headers=admin.headers, json={"role": "staff"}
    )
    assert_error(refused, 409, "LAST_ADMIN")
    log = await client.get("/api/v1/admin/audit", headers=admin.headers, params={"entity": "user"})
    assert log.json()["items"] == []


@pytest.mark.parametrize("payload", [{"role": "staff"}, {"is_active": False}])
async def test_concurrent_demotions_of_the_last_two_admins_over_http(
    networked_db: None, client: AsyncClient, make_user: Callable[..., Any], payload: dict[str, Any]
) -> None:
    for _ in range(5):
        first: UserWithToken = await make_user(role="admin")
        second: UserWithToken = await make_user(role="admin")
        await User.find(User.id != first.user.id, User.id != second.user.id).update(
            {"$set": {"role": "entrepreneur"}}
        )
        await admin_roster.sync()
        assert await _active_admins() == 2
        responses = await asyncio.gather(
            client.patch(f"{ADMIN_USERS}/{second.id}", headers=first.headers, json=payload),
            client.patch(f"{ADMIN_USERS}/{first.id}", headers=second.headers, json=payload),
        )
        codes = sorted(r.status_code for r in responses)
        assert codes.count(200) == 1, codes
        assert codes[1] in {401, 409}  # refused, or its caller was the one demoted first
        assert await _active_admins() == 1


async def test_concurrent_demotions_in_the_service(
    networked_db: None, settings: Settings, make_user: Callable[..., Any]
) -> None:
    """The same race without HTTP in between: exactly one of the two demotions lands."""
    for _ in range(10):
        first: UserWithToken = await make_user(role="admin")
        second: UserWithToken = await make_user(role="admin")
        await User.find(User.id != first.user.id, User.id != second.user.id).update(
            {"$set": {"role": "entrepreneur"}}
        )
        await admin_roster.sync()
        results = await asyncio.gather(
            user_service.admin_update(
                settings, principal(first), second.id, AdminUserUpdate(role=Role.staff)
            ),
            user_service.admin_update(
                settings, principal(second), first.id, AdminUserUpdate(is_active=False)
            ),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1, results
        assert isinstance(errors[0], Conflict)
        assert errors[0].code == "LAST_ADMIN"
        assert await _active_admins() == 1


async def test_two_admins_demoting_a_third_at_once(
    networked_db: None, client: AsyncClient, make_user: Callable[..., Any]
) -> None:
    """Both requests read the same admin; one changes it, the other is told it changed."""
    first, second, third = [await make_user(role="admin") for _ in range(3)]
    responses = await asyncio.gather(
        client.patch(f"{ADMIN_USERS}/{third.id}", headers=first.headers, json={"role": "staff"}),
        client.patch(
            f"{ADMIN_USERS}/{third.id}", headers=second.headers, json={"is_active": False}
        ),
    )
    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 200
    assert codes[1] in {200, 409}
    stored = await User.get(third.user.id)
    assert stored is not None
    assert not (stored.role is Role.admin and stored.is_active)
    assert await _active_admins() == 2
    # The guard still counts right afterwards: one more demotion, then the last one stays.
    assert (
        await client.patch(
            f"{ADMIN_USERS}/{second.id}", headers=first.headers, json={"role": "staff"}
        )
    ).status_code == 200
    last = await client.patch(
        f"{ADMIN_USERS}/{first.id}", headers=first.headers, json={"role": "staff"}
    )
    assert last.status_code == 409
    assert last.json()["error"]["code"] == "LAST_ADMIN"


async def test_roster_rebuilt_from_users(app: Any, make_user: Callable[..., Any]) -> None:
    """Admins written straight to the database (not through the services) are picked up by
    the start-up rebuild; until then the guard errs on the side of refusing."""
    a: UserWithToken = await make_user(role="admin")
    b: UserWithToken = await make_user(role="admin")
    await User.get_motor_collection().update_one(
        {"_id": b.user.id}, {"$set": {"is_active": False}}
    )  # out of band
    await User(
        email="direct@example.org", password_hash="x", full_name="D", role=Role.admin
    ).insert()
    direct = await User.find_one(User.email == "direct@example.org")
    assert set(await admin_roster.sync()) == {a.user.id, direct.id}
    assert b.user.id is not None
    with pytest.raises(Conflict):
        await admin_roster.leave(b.user.id)  # not an active admin: not in the roster
