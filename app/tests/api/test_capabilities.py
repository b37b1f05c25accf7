"""Walks `capabilities.TABLE`: every (platform role × organisation role × action) cell is one
test that performs the action over HTTP and asserts the outcome the table promises.

Allowed cells must succeed. Denied cells answer 403 with the table's code — or 404 where the
caller may not even see the object (a draft, an archived organisation), since objects you may
not know about are "not found". Anonymous callers are walked too.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from beanie import PydanticObjectId
from httpx import AsyncClient, Response
from PIL import Image

from app.models.organisation import OrgRole
from app.models.user import Role
from app.services import capabilities
from app.services.auth import Principal
from app.services.capabilities import TABLE, Action
from app.tests.factories import (
    UserWithToken,
    add_member,
    make_event,
    make_opportunity,
    make_org,
    opportunity_body,
)

API = "/api/v1"
PLATFORM_ROLES = [Role.entrepreneur, Role.partner, Role.staff, Role.admin]
ORG_ROLES: list[OrgRole | None] = [None, OrgRole.editor, OrgRole.owner]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class World:
    client: AsyncClient
    founder: UserWithToken  # a partner who created the organisation (an owner)
    staff: UserWithToken
    caller: UserWithToken | None
    org: dict[str, Any]
    make_user: Callable[..., Awaitable[UserWithToken]]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return self.caller.headers if self.caller else {}

    async def request(self, method: str, url: str, **kwargs: Any) -> Response:
        return await self.client.request(method, f"{API}{url}", headers=self.headers, **kwargs)

    async def item(self, state: str, kind: str = "opportunities") -> dict[str, Any]:
        maker = make_opportunity if kind == "opportunities" else make_event
        publish = self.staff if state in ("published", "archived") else None
        item = await maker(self.client, self.founder, self.org["id"], publish_as=publish)
        path = f"{API}/{kind}/{item['id']}"
        if state == "pending_review":
            r = await self.client.post(f"{path}/submit", headers=self.founder.headers)
            assert r.status_code == 200, r.text
        if state == "archived":
            r = await self.client.delete(path, headers=self.founder.headers)
            assert r.status_code == 204, r.text
        return item


@dataclass(frozen=True)
class Scenario:
    run: Callable[[World], Awaitable[Response]]
    ok: int
    # Whether a caller who may not do the action can still see the object (403) or not (404).
    visible: Callable[[Principal | None, OrgRole | None], bool] = lambda p, r: True
    # What a successful response must show, beyond its status.
    check: Callable[[Response, bool], None] | None = None


def sees(action: Action) -> Callable[[Principal | None, OrgRole | None], bool]:
    return lambda principal, org_role: capabilities.allows(principal, org_role, action)


async def _invite_someone(w: World) -> dict[str, Any]:
    r = await w.client.post(
        f"{API}/organisations/{w.org['id']}/invitations",
        headers=w.founder.headers,
        json={"email": "someone-else@example.org"},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _other_member(w: World, role: str) -> UserWithToken:
    other = await w.make_user(role="partner")
    await add_member(w.client, w.founder, w.org["id"], other, role)
    return other


async def _archived_org(w: World) -> Response:
    r = await w.client.delete(f"{API}/organisations/{w.org['id']}", headers=w.founder.headers)
    assert r.status_code == 204
    return await w.request("POST", f"/organisations/{w.org['id']}/restore")


async def _run_view_internal(w: World) -> Response:
    return await w.request("GET", f"/organisations/{w.org['id']}")


def _members_shown(response: Response, allowed: bool) -> None:
    assert (response.json()["members"] is not None) is allowed


async def _item_action(w: World, state: str, method: str, suffix: str, **kw: Any) -> Response:
    item = await w.item(state)
    return await w.request(method, f"/opportunities/{item['id']}{suffix}", **kw)


async def _attendees(w: World) -> Response:
    event = await w.item("published", "events")
    return await w.request("GET", f"/events/{event['id']}/attendees")


async def _cover(w: World) -> Response:
    item = await w.item("published")
    files = {"file": ("c.png", png(), "image/png")}
    return await w.request("PUT", f"/opportunities/{item['id']}/cover", files=files)


async def _remove_other(w: World) -> Response:
    other = await _other_member(w, "editor")
    return await w.request("DELETE", f"/organisations/{w.org['id']}/members/{other.id}")


async def _demote_other(w: World) -> Response:
    other = await _other_member(w, "owner")
    return await w.request(
        "PATCH", f"/organisations/{w.org['id']}/members/{other.id}", json={"role": "editor"}
    )


async def _leave(w: World) -> Response:
    me = w.caller.id if w.caller else "64b7f0c2a1b2c3d4e5f60718"
    return await w.request("DELETE", f"/organisations/{w.org['id']}/members/{me}")


async def _revoke(w: World) -> Response:
    inv = await _invite_someone(w)
    return await w.request("DELETE", f"/organisations/{w.org['id']}/invitations/{inv['id']}")


DRAFT_VISIBLE = sees(Action.item_view_unpublished)
SCENARIOS: dict[Action, Scenario] = {
    Action.org_create: Scenario(
        lambda w: w.request("POST", "/organisations", json={"name": "Brand New", "type": "ngo"}),
        201,
    ),
    Action.org_edit: Scenario(
        lambda w: w.request("PATCH", f"/organisations/{w.org['id']}", json={"description": "x"}),
        200,
    ),
    Action.org_upload_logo: Scenario(
        lambda w: w.request(
            "PUT",
            f"/organisations/{w.org['id']}/logo",
            files={"file": ("l.png", png(), "image/png")},
        ),
        200,
    ),
    Action.org_archive: Scenario(
        lambda w: w.request("DELETE", f"/organisations/{w.org['id']}"), 204
    ),
    Action.org_restore: Scenario(_archived_org, 200, sees(Action.org_view_internal)),
    Action.org_view_internal: Scenario(_run_view_internal, 200, check=_members_shown),
    Action.member_invite: Scenario(
        lambda w: w.request(
            "POST",
            f"/organisations/{w.org['id']}/invitations",
            json={"email": "invitee@example.org", "role": "owner"},
        ),
        201,
    ),
    Action.invitation_list: Scenario(
        lambda w: w.request("GET", f"/organisations/{w.org['id']}/invitations"), 200
    ),
    Action.invitation_revoke: Scenario(_revoke, 204),
    Action.member_remove: Scenario(_remove_other, 200),
    Action.member_demote: Scenario(_demote_other, 200),
    Action.member_leave: Scenario(_leave, 200),
    Action.item_create: Scenario(
        lambda w: w.request("POST", "/opportunities", json=opportunity_body(w.org["id"])), 201
    ),
    Action.item_edit: Scenario(
        lambda w: _item_action(w, "draft", "PATCH", "", json={"title": "Edited title"}),
        200,
        DRAFT_VISIBLE,
    ),
    Action.item_submit: Scenario(
        lambda w: _item_action(w, "draft", "POST", "/submit"), 200, DRAFT_VISIBLE
    ),
    Action.item_close: Scenario(lambda w: _item_action(w, "published", "POST", "/close"), 200),
    Action.item_cancel: Scenario(
        lambda w: _item_action(w, "published", "POST", "/cancel", json={"reason": "Sorry"}), 200
    ),
    Action.item_archive: Scenario(lambda w: _item_action(w, "published", "DELETE", ""), 204),
    Action.item_upload_cover: Scenario(_cover, 200),
    Action.item_view_unpublished: Scenario(
        lambda w: _item_action(w, "draft", "GET", ""), 200, DRAFT_VISIBLE
    ),
    Action.item_view_attendees: Scenario(_attendees, 200),
    Action.item_moderate: Scenario(
        lambda w: _item_action(w, "pending_review", "POST", "/approve"), 200, DRAFT_VISIBLE
    ),
    Action.item_restore: Scenario(
        lambda w: _item_action(w, "archived", "POST", "/restore"), 200, DRAFT_VISIBLE
    ),
    Action.item_purge: Scenario(
        lambda w: _item_action(w, "archived", "DELETE", "/purge"), 204, DRAFT_VISIBLE
    ),
}


def test_every_action_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(TABLE) == set(Action)


def principal_for(role: Role) -> Principal:
    return Principal(id=PydanticObjectId(), role=role, jti="j", sid="s", exp=datetime.now(UTC))


CELLS = [
    pytest.param(action, role, org_role, id=f"{action.value}-{role.value}-{org_role or 'none'}")
    for action in Action
    for role in PLATFORM_ROLES
    for org_role in ORG_ROLES
]


async def _world(
    client: AsyncClient, make_user, partner, staff, caller: UserWithToken | None
) -> World:
    org = await make_org(client, partner)
    return World(client, partner, staff, caller, org, make_user)


@pytest.mark.parametrize(("action", "role", "org_role"), CELLS)
async def test_cell(
    client: AsyncClient, make_user, partner, staff, action: Action, role: Role, org_role
) -> None:
    caller = await make_user(role=role)
    world = await _world(client, make_user, partner, staff, caller)
    if org_role is not None:
        await add_member(client, partner, world.org["id"], caller, org_role.value)
    principal = principal_for(role)
    allowed = capabilities.allows(principal, org_role, action)
    scenario = SCENARIOS[action]
    response = await scenario.run(world)
    cell = (action.value, role.value, org_role, response.text[:300])
    if allowed:
        assert response.status_code == scenario.ok, cell
    elif not scenario.visible(principal, org_role):
        assert response.status_code == 404, cell
    elif scenario.check is None:
        assert response.status_code == 403, cell
        expected = capabilities.denial(principal, org_role, action).code
        assert response.json()["error"]["code"] == expected, cell
    if scenario.check is not None:
        assert response.status_code == scenario.ok, cell
        scenario.check(response, allowed)


@pytest.mark.parametrize("action", list(Action), ids=[a.value for a in Action])
async def test_anonymous(client: AsyncClient, make_user, partner, staff, action: Action) -> None:
    world = await _world(client, make_user, partner, staff, None)
    scenario = SCENARIOS[action]
    response = await scenario.run(world)
    if scenario.check is not None:  # a public read, less of it
        assert response.status_code == scenario.ok
        scenario.check(response, False)
    elif response.request.method == "GET":
        assert response.status_code == (404 if not scenario.visible(None, None) else 401)
    else:
        assert response.status_code == 401, (action, response.text)


# --- the rules the table encodes, stated without it -----------------------------------------------


def test_who_may_not_create_items_may_do_nothing_else_to_them() -> None:
    """An entrepreneur may not create items, so — owner or editor — they may not edit, submit
    or otherwise manage them; and that holds for every item action and every cell."""
    entrepreneur = principal_for(Role.entrepreneur)
    for org_role in ORG_ROLES:
        for action in (Action.item_create, Action.item_edit, Action.item_submit):
            assert not capabilities.allows(entrepreneur, org_role, action)
    for action in Action:
        if not action.value.startswith("item."):
            continue
        for role in Role:
            for org_role in ORG_ROLES:
                if capabilities.allows(principal_for(role), org_role, action):
                    assert capabilities.allows(principal_for(role), org_role, Action.item_create)
    partner = principal_for(Role.partner)
    assert capabilities.allows(partner, OrgRole.editor, Action.item_edit)
    assert not capabilities.allows(partner, None, Action.item_edit)


def test_owner_only_and_staff_only_cells() -> None:
    partner, staff, admin = (principal_for(r) for r in (Role.partner, Role.staff, Role.admin))
    for action in (
        Action.member_invite,
        Action.member_remove,
        Action.member_demote,
        Action.org_archive,
        Action.item_archive,
    ):
        assert capabilities.allows(partner, OrgRole.owner, action)
        assert not capabilities.allows(partner, OrgRole.editor, action)
        assert capabilities.allows(staff, None, action)
    for action in (Action.item_moderate, Action.item_restore, Action.org_restore):
        assert not capabilities.allows(partner, OrgRole.owner, action)
        assert capabilities.allows(staff, None, action)
    assert not capabilities.allows(staff, OrgRole.owner, Action.item_purge)
    assert capabilities.allows(admin, None, Action.item_purge)
    assert not capabilities.allows(None, OrgRole.owner, Action.org_view_internal)
