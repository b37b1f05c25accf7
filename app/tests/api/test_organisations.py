"""Organisations: who may create, edit and manage members; lost-update protection; audit."""

from __future__ import annotations

from httpx import AsyncClient

from app.models.audit import AuditEntry
from app.tests.errors import assert_error
from app.tests.factories import add_member, make_opportunity, make_org


async def test_create_roles(client: AsyncClient, partner, entrepreneur, staff) -> None:
    created = await client.post(
        "/api/v1/organisations",
        headers=partner.headers,
        json={
            "name": "Café Énergie",
            "type": "accelerator",
            "country": "ke",
            "website": "https://cafe.example",
        },
    )
    assert created.status_code == 201
    org = created.json()
    assert org["slug"] == "cafe-energie"
    assert org["country"] == "KE"
    assert org["members"][0] == {
        "user_id": partner.id,
        "role": "owner",
        "added_at": org["members"][0]["added_at"],
    }
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"] == f"/api/v1/organisations/{org['id']}"
    refused = await client.post(
        "/api/v1/organisations", headers=entrepreneur.headers, json={"name": "Nope", "type": "ngo"}
    )
    assert_error(refused, 403, "INSUFFICIENT_ROLE")
    anonymous = await client.post("/api/v1/organisations", json={"name": "Nope", "type": "ngo"})
    assert_error(anonymous, 401, "NOT_AUTHENTICATED")
    dup = await client.post(
        "/api/v1/organisations", headers=staff.headers, json={"name": "Cafe Energie", "type": "ngo"}
    )
    assert dup.status_code == 409
    assert dup.json()["error"]["code"] == "SLUG_TAKEN"


async def test_validation(client: AsyncClient, partner) -> None:
    for body in (
        {"name": "X", "type": "ngo"},
        {"name": "Good", "type": "cult"},
        {"name": "Good", "type": "ngo", "country": "XX"},
        {"name": "Good", "type": "ngo", "website": "javascript:alert(1)"},
        {"name": "Good", "type": "ngo", "$where": "1"},
    ):
        response = await client.post("/api/v1/organisations", headers=partner.headers, json=body)
        assert_error(response, 422, "VALIDATION_ERROR")


async def test_description_sanitised(client: AsyncClient, partner) -> None:
    org = await make_org(
        client, partner, description='<p onclick="x()">Hi<script>alert(1)</script></p>'
    )
    assert "script" not in org["description"]
    assert "onclick" not in org["description"]
    assert "Hi" in org["description"]


async def test_members_hidden_from_public(client: AsyncClient, partner, entrepreneur) -> None:
    org = await make_org(client, partner)
    public = await client.get(f"/api/v1/organisations/{org['slug']}")
    assert public.status_code == 200
    assert public.json()["members"] is None
    other = await client.get(f"/api/v1/organisations/{org['id']}", headers=entrepreneur.headers)
    assert other.json()["members"] is None


async def test_update_permissions_and_if_match(client: AsyncClient, partner, make_user) -> None:
    other_partner = await make_user(role="partner")
    org = await make_org(client, partner)
    url = f"/api/v1/organisations/{org['id']}"
    forbidden = await client.patch(url, headers=other_partner.headers, json={"name": "Hijacked"})
    assert_error(forbidden, 403, "NOT_ORGANISATION_MEMBER")
    ok = await client.patch(
        url, headers={**partner.headers, "If-Match": '"1"'}, json={"name": "Renamed Org"}
    )
    assert ok.status_code == 200
    assert ok.headers["etag"] == '"2"'
    stale = await client.patch(
        url, headers={**partner.headers, "If-Match": '"1"'}, json={"name": "Lost Update"}
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "VERSION_MISMATCH"
    assert (await client.get(url)).json()["name"] == "Renamed Org"
    bad_header = await client.patch(
        url, headers={**partner.headers, "If-Match": "garbage"}, json={"name": "X1"}
    )
    assert_error(bad_header, 412, "INVALID_IF_MATCH")


async def test_rename_reaches_its_items(client: AsyncClient, partner, staff) -> None:
    org = await make_org(client, partner, name="Old Name Org")
    item = await make_opportunity(client, partner, org["id"], publish_as=staff)
    await client.patch(
        f"/api/v1/organisations/{org['id']}",
        headers=partner.headers,
        json={"name": "Brand New Org"},
    )
    fresh = (await client.get(f"/api/v1/opportunities/{item['id']}")).json()
    assert fresh["organisation"]["name"] == "Brand New Org"
    found = (await client.get("/api/v1/opportunities", params={"q": "brand new"})).json()["items"]
    assert [i["id"] for i in found] == [item["id"]]


async def test_members_join_by_invitation_and_leave(
    client: AsyncClient, partner, make_user
) -> None:
    """Behaviour change (issue 8): the direct `POST /members` is gone; members join only by
    accepting an invitation (see test_invitations.py)."""
    editor = await make_user(role="partner")
    org = await make_org(client, partner)
    url = f"/api/v1/organisations/{org['id']}/members"
    gone = await client.post(url, headers=partner.headers, json={"email": editor.email})
    assert gone.status_code in (404, 405)
    not_owner = await client.post(
        f"/api/v1/organisations/{org['id']}/invitations",
        headers=editor.headers,
        json={"email": editor.email},
    )
    assert_error(not_owner, 403, "NOT_ORGANISATION_MEMBER")
    joined = await add_member(client, partner, org["id"], editor, "editor")
    assert {m["user_id"] for m in joined["members"]} == {partner.id, editor.id}
    # The editor can now edit the organisation but not manage members.
    assert (
        await client.patch(
            f"/api/v1/organisations/{org['id']}", headers=editor.headers, json={"description": "x"}
        )
    ).status_code == 200
    assert (await client.delete(f"{url}/{partner.id}", headers=editor.headers)).status_code == 403
    last_owner = await client.delete(f"{url}/{partner.id}", headers=partner.headers)
    assert last_owner.status_code == 409
    assert last_owner.json()["error"]["code"] == "LAST_OWNER"
    leave = await client.delete(f"{url}/{editor.id}", headers=editor.headers)
    assert leave.status_code == 200
    assert leave.json()["members"] is None  # no longer a member: the list is not theirs to see
    owner_view = await client.get(f"/api/v1/organisations/{org['id']}", headers=partner.headers)
    assert [m["user_id"] for m in owner_view.json()["members"]] == [partner.id]
    missing = await client.delete(f"{url}/{editor.id}", headers=partner.headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "MEMBER_NOT_FOUND"


async def test_archive_restore(client: AsyncClient, partner, staff, entrepreneur) -> None:
    org = await make_org(client, partner)
    url = f"/api/v1/organisations/{org['id']}"
    assert_error(
        (await client.delete(url, headers=entrepreneur.headers)), 403, "NOT_ORGANISATION_MEMBER"
    )
    assert (await client.delete(url, headers=partner.headers)).status_code == 204
    assert_error((await client.get(url)), 404, "ORGANISATION_NOT_FOUND")
    assert (await client.get(url, headers=partner.headers)).json()["archived"] is True
    listed = (await client.get("/api/v1/organisations")).json()["items"]
    assert org["id"] not in [o["id"] for o in listed]
    assert_error((await client.post(f"{url}/restore", headers=partner.headers)), 403, "STAFF_ONLY")
    assert (await client.post(f"{url}/restore", headers=staff.headers)).status_code == 200
    assert (await client.get(url)).status_code == 200


async def test_list_filters_and_mine(client: AsyncClient, partner, make_user) -> None:
    other = await make_user(role="partner")
    a = await make_org(client, partner, name="Alpha Ventures", type="investor", country="KE")
    b = await make_org(client, other, name="Beta Foundation", type="ngo", country="NG")
    by_type = (await client.get("/api/v1/organisations", params={"type": "investor"})).json()[
        "items"
    ]
    assert [o["id"] for o in by_type] == [a["id"]]
    by_country = (await client.get("/api/v1/organisations", params={"country": "NG"})).json()[
        "items"
    ]
    assert [o["id"] for o in by_country] == [b["id"]]
    mine = (
        await client.get("/api/v1/organisations", headers=other.headers, params={"mine": "true"})
    ).json()
    assert [o["id"] for o in mine["items"]] == [b["id"]]
    text = (await client.get("/api/v1/organisations", params={"q": "foundation"})).json()["items"]
    assert [o["id"] for o in text] == [b["id"]]
    assert_error(
        (await client.get("/api/v1/organisations", params={"sort": "bogus"})), 422, "INVALID_SORT"
    )


async def test_organisation_changes_audited(client: AsyncClient, partner, make_user) -> None:
    editor = await make_user(role="partner")
    org = await make_org(client, partner, name="Audited Org")
    await client.patch(
        f"/api/v1/organisations/{org['id']}",
        headers=partner.headers,
        json={"name": "Audited Org 2"},
    )
    await add_member(client, partner, org["id"], editor)
    await client.delete(f"/api/v1/organisations/{org['id']}", headers=partner.headers)
    entries = (
        await AuditEntry.find(
            AuditEntry.entity == "organisation", AuditEntry.entity_id == org["id"]
        )
        .sort("+at")
        .to_list()
    )
    assert [e.action for e in entries] == [
        "create",
        "update",
        "invitation_create",
        "member_add",
        "archive",
    ]
    assert str(entries[3].actor_id) == editor.id  # the invited user joined by accepting
    assert entries[1].changes["name"] == {"before": "Audited Org", "after": "Audited Org 2"}
    assert str(entries[1].actor_id) == partner.id
    assert entries[1].request_id


async def test_archiving_an_organisation_hides_its_items(
    client: AsyncClient, partner, staff
) -> None:
    from app.tests.factories import make_event

    org = await make_org(client, partner)
    opp = await make_opportunity(client, partner, org["id"], publish_as=staff)
    event = await make_event(client, partner, org["id"], publish_as=staff)
    own_archive = await make_opportunity(client, partner, org["id"], publish_as=staff)
    await client.delete(f"/api/v1/opportunities/{own_archive['id']}", headers=partner.headers)
    assert (
        await client.delete(f"/api/v1/organisations/{org['id']}", headers=partner.headers)
    ).status_code == 204
    assert (await client.get("/api/v1/opportunities")).json()["items"] == []
    assert (await client.get("/api/v1/events")).json()["items"] == []
    assert (
        await client.post(f"/api/v1/organisations/{org['id']}/restore", headers=staff.headers)
    ).status_code == 200
    assert [i["id"] for i in (await client.get("/api/v1/opportunities")).json()["items"]] == [
        opp["id"]
    ]
    assert [i["id"] for i in (await client.get("/api/v1/events")).json()["items"]] == [event["id"]]
    still = await client.get(f"/api/v1/opportunities/{own_archive['id']}", headers=partner.headers)
    assert still.json()["status"] == "archived"  # archived on its own: stays archived
