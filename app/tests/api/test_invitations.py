"""Organisation invitations: the only way to become a member.

Owners invite an address; the answer is the same for known and unknown addresses; only the
(confirmed) owner of the address can accept; nobody becomes a member — or an owner — without
accepting; one pending invitation per organisation and address; expiry is checked in code;
accepting is idempotent; everything is audited.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest
from beanie import PydanticObjectId
from httpx import AsyncClient
from pymongo.errors import DuplicateKeyError

from app import email as mail_queue
from app.models.base import utcnow
from app.models.email import OutboxEmail
from app.models.invitation import Invitation, InvitationStatus
from app.models.user import User
from app.tests.api.invitation_helpers import (
    API,
    accept,
    audit_actions,
    decline,
    invitations_url,
    invite,
    members,
)
from app.tests.errors import assert_error
from app.tests.factories import add_member, make_org

# --- no account enumeration --------------------------------------------------------------------


async def test_same_answer_for_known_unknown_inactive_and_member_addresses(
    client: AsyncClient, partner, make_user
) -> None:
    org = await make_org(client, partner)
    known = await make_user(role="entrepreneur")
    inactive = await make_user(role="partner")
    await User.get_motor_collection().update_one(
        {"_id": inactive.user.id}, {"$set": {"is_active": False}}
    )
    member = await make_user(role="partner")
    await add_member(client, partner, org["id"], member)
    addresses = {
        "known": known.email,
        "unknown": "nobody-here@example.org",
        "inactive": inactive.email,
        "member": member.email,
        "self": partner.email,
    }
    answers = {name: await invite(client, partner, org["id"], a) for name, a in addresses.items()}

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        return type(value).__name__

    volatile = {"x-request-id", "content-length", "location", "date"}
    reference = answers["unknown"]
    for name, response in answers.items():
        assert response.status_code == 201, (name, response.text)
        body = response.json()
        assert shape(body) == shape(reference.json()), name
        assert body["email"] == addresses[name]
        assert body["status"] == "pending"
        assert body["organisation"] == reference.json()["organisation"]
        assert {h for h in response.headers if h not in volatile} == {
            h for h in reference.headers if h not in volatile
        }, name
        assert response.headers["location"] == (
            f"/api/v1/organisations/{org['id']}/invitations/{body['id']}"
        )
        # Every address gets the same e-mail (unknown ones learn how to sign up).
        mail = await OutboxEmail.find_one(
            OutboxEmail.to == addresses[name], OutboxEmail.template == "organisation_invitation"
        )
        assert mail is not None, name
        assert org["name"] in mail.body
        assert "/invitations" in mail.body
    bodies = [
        re.sub(re.escape(addresses[n]), "ADDRESS", m.body)
        for n in addresses
        for m in await OutboxEmail.find(
            OutboxEmail.to == addresses[n], OutboxEmail.template == "organisation_invitation"
        ).to_list()
    ]
    assert len(set(bodies)) == 1  # the text does not depend on the address having an account


async def test_unknown_address_can_register_later_and_accept(client: AsyncClient, partner) -> None:
    org = await make_org(client, partner)
    invited = await invite(client, partner, org["id"], "Newcomer@Example.org", "editor")
    assert invited.status_code == 201
    assert invited.json()["email"] == "newcomer@example.org"  # normalised
    registered = await client.post(
        f"{API}/auth/register",
        json={
            "email": "newcomer@example.org",
            "password": "a-long-enough-passphrase-7",
            "full_name": "New Comer",
        },
    )
    assert registered.status_code == 201
    login = await client.post(
        f"{API}/auth/login/json",
        json={"email": "newcomer@example.org", "password": "a-long-enough-passphrase-7"},
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    # Anyone can sign up with any address: until it is confirmed, invitations stay closed.
    unverified = await client.get(f"{API}/me/invitations", headers=headers)
    assert unverified.status_code == 403
    assert unverified.json()["error"]["code"] == "EMAIL_NOT_VERIFIED"
    early = await client.post(
        f"{API}/me/invitations/{invited.json()['id']}/accept", headers=headers
    )
    assert_error(early, 403, "EMAIL_NOT_VERIFIED")
    assert await members(org["id"]) == {partner.id: "owner"}
    await mail_queue.drain()
    mail = await OutboxEmail.find_one(
        OutboxEmail.to == "newcomer@example.org", OutboxEmail.template == "verify_email"
    )
    assert mail is not None
    token = re.search(r"token=([A-Za-z0-9_-]+)", mail.body)
    assert token
    verified = await client.post(f"{API}/auth/verify-email", json={"token": token.group(1)})
    assert verified.status_code == 204
    mine = await client.get(f"{API}/me/invitations", headers=headers)
    assert mine.status_code == 200
    assert [i["id"] for i in mine.json()["items"]] == [invited.json()["id"]]
    accepted = await client.post(
        f"{API}/me/invitations/{invited.json()['id']}/accept", headers=headers
    )
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    user = await User.find_one(User.email == "newcomer@example.org")
    assert await members(org["id"]) == {partner.id: "owner", str(user.id): "editor"}


# --- nobody becomes a member (or an owner) without accepting -----------------------------------


async def test_invited_owner_has_no_rights_until_accepting(
    client: AsyncClient, partner, make_user
) -> None:
    org = await make_org(client, partner)
    invitee = await make_user(role="partner")
    invited = await invite(client, partner, org["id"], invitee.email, "owner")
    assert invited.status_code == 201
    assert await members(org["id"]) == {partner.id: "owner"}
    org_url = f"{API}/organisations/{org['id']}"
    assert (await client.get(org_url, headers=invitee.headers)).json()["members"] is None
    for method, url, body in (
        ("PATCH", org_url, {"description": "mine now"}),
        ("POST", invitations_url(org["id"]), {"email": "friend@example.org"}),
        ("DELETE", f"{org_url}/members/{partner.id}", None),
        ("DELETE", org_url, None),
    ):
        response = await client.request(method, url, headers=invitee.headers, json=body)
        assert_error(response, 403, "NOT_ORGANISATION_MEMBER")
    accepted = await accept(client, invitee, invited.json()["id"])
    assert accepted.status_code == 200
    assert await members(org["id"]) == {partner.id: "owner", invitee.id: "owner"}
    assert (
        await client.patch(org_url, headers=invitee.headers, json={"description": "ours"})
    ).status_code == 200


async def test_decline_then_accept_is_refused(client: AsyncClient, partner, make_user) -> None:
    org = await make_org(client, partner)
    invitee = await make_user(role="partner")
    inv = (await invite(client, partner, org["id"], invitee.email)).json()
    first = await decline(client, invitee, inv["id"])
    assert first.status_code == 200
    assert first.json()["status"] == "declined"
    again = await decline(client, invitee, inv["id"])
    assert again.status_code == 200  # declining twice is harmless
    late = await accept(client, invitee, inv["id"])
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "INVITATION_NOT_PENDING"
    assert await members(org["id"]) == {partner.id: "owner"}
    listed = await client.get(f"{API}/me/invitations", headers=invitee.headers)
    assert listed.json()["items"] == []


async def test_only_the_addressee_sees_and_answers(client: AsyncClient, partner, make_user) -> None:
    org = await make_org(client, partner)
    invitee = await make_user(role="partner")
    stranger = await make_user(role="partner")
    inv = (await invite(client, partner, org["id"], invitee.email)).json()
    assert (await client.get(f"{API}/me/invitations", headers=stranger.headers)).json()[
        "items"
    ] == []
    for answer in (accept, decline):
        response = await answer(client, stranger, inv["id"])
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "INVITATION_NOT_FOUND"
    for bogus in ("not-an-id", "64b7f0c2a1b2c3d4e5f60718"):
        assert_error((await accept(client, invitee, bogus)), 404, "INVITATION_NOT_FOUND")
    assert_error((await client.get(f"{API}/me/invitations")), 401, "NOT_AUTHENTICATED")
    assert await members(org["id"]) == {partner.id: "owner"}


# --- idempotency and uniqueness ----------------------------------------------------------------


async def test_accepting_twice_and_concurrently_adds_once(
    client: AsyncClient, partner, make_user
) -> None:
    org = await make_org(client, partner)
    invitee = await make_user(role="partner")
    inv = (await invite(client, partner, org["id"], invitee.email)).json()
    answers = await asyncio.gather(*(accept(client, invitee, inv["id"]) for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert {a.json()["status"] for a in answers} == {"accepted"}
    again = await accept(client, invitee, inv["id"])
    assert again.status_code == 200
    assert await members(org["id"]) == {partner.id: "owner", invitee.id: "editor"}
    assert (await audit_actions(org["id"])).count("member_add") == 1


async def test_accepting_when_already_a_member_is_a_clean_409(
    client: AsyncClient, partner, make_user
) -> None:
    org = await make_org(client, partner)
    editor = await make_user(role="partner")
    await add_member(client, partner, org["id"], editor, "editor")
    inv = (await invite(client, partner, org["id"], editor.email, "editor")).json()
    refused = await accept(client, editor, inv["id"])
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "ALREADY_MEMBER"
    stored = await Invitation.get(PydanticObjectId(inv["id"]))
    assert stored.status is InvitationStatus.pending  # nothing changed
    assert stored.accepted_by is None
    # The founder (an owner) invited as editor: also already a member.
    own = (await invite(client, partner, org["id"], partner.email, "editor")).json()
    assert (await accept(client, partner, own["id"])).json()["error"]["code"] == "ALREADY_MEMBER"
    assert await members(org["id"]) == {partner.id: "owner", editor.id: "editor"}


async def test_an_editor_becomes_owner_only_by_accepting(
    client: AsyncClient, partner, make_user
) -> None:
    org = await make_org(client, partner)
    editor = await make_user(role="partner")
    await add_member(client, partner, org["id"], editor, "editor")
    member_url = f"{API}/organisations/{org['id']}/members/{editor.id}"
    direct = await client.patch(member_url, headers=partner.headers, json={"role": "owner"})
    assert direct.status_code == 409
    assert direct.json()["error"]["code"] == "OWNER_NEEDS_INVITATION"
    inv = (await invite(client, partner, org["id"], editor.email, "owner")).json()
    assert await members(org["id"]) == {partner.id: "owner", editor.id: "editor"}
    promoted = await accept(client, editor, inv["id"])
    assert promoted.status_code == 200
    assert await members(org["id"]) == {partner.id: "owner", editor.id: "owner"}
    assert "member_role_change" in await audit_actions(org["id"])
    # Demotion is direct (by an owner), and never of the last owner.
    demoted = await client.patch(member_url, headers=partner.headers, json={"role": "editor"})
    assert demoted.status_code == 200
    last = await client.patch(
        f"{API}/organisations/{org['id']}/members/{partner.id}",
        headers=partner.headers,
        json={"role": "editor"},
    )
    assert last.status_code == 409
    assert last.json()["error"]["code"] == "LAST_OWNER"
    assert await members(org["id"]) == {partner.id: "owner", editor.id: "editor"}


async def test_one_pending_invitation_per_organisation_and_address(
    client: AsyncClient, partner, make_user
) -> None:
    org = await make_org(client, partner)
    first = await invite(client, partner, org["id"], "someone@example.org")
    assert first.status_code == 201
    for address in ("someone@example.org", "  SOMEONE@example.ORG "):
        dup = await invite(client, partner, org["id"], address, "owner")
        assert dup.status_code == 409, address
        assert dup.json()["error"]["code"] == "INVITATION_PENDING"
    # Another organisation may invite the same address.
    other = await make_org(client, partner)
    assert (await invite(client, partner, other["id"], "someone@example.org")).status_code == 201
    # The database itself refuses a second pending one (a unique index, not a check).
    stored = await Invitation.get(PydanticObjectId(first.json()["id"]))
    clone = stored.model_copy(update={"id": None})
    with pytest.raises(DuplicateKeyError):
        await clone.insert()
    # Once answered (here: revoked), the slot is free again.
    revoked = await client.delete(
        f"{invitations_url(org['id'])}/{first.json()['id']}", headers=partner.headers
    )
    assert revoked.status_code == 204
    assert (await invite(client, partner, org["id"], "someone@example.org")).status_code == 201
    # Concurrent invitations of one address: exactly one wins.
    answers = await asyncio.gather(
        *(invite(client, partner, org["id"], "race@example.org") for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]


# --- expiry -------------------------------------------------------------------------------------


async def test_expired_invitations_cannot_be_accepted(
    client: AsyncClient, partner, make_user
) -> None:
    org = await make_org(client, partner)
    invitee = await make_user(role="partner")
    inv = (await invite(client, partner, org["id"], invitee.email)).json()
    assert inv["expires_at"] > inv["created_at"]
    # Time passes (the TTL monitor has not run — it never does on the embedded backend).
    await Invitation.get_motor_collection().update_one(
        {"_id": PydanticObjectId(inv["id"])},
        {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}},
    )
    assert (await client.get(f"{API}/me/invitations", headers=invitee.headers)).json()[
        "items"
    ] == []
    late = await accept(client, invitee, inv["id"])
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "INVITATION_EXPIRED"
    assert_error((await decline(client, invitee, inv["id"])), 409, "INVITATION_EXPIRED")
    assert await members(org["id"]) == {partner.id: "owner"}
    expired = await client.get(
        invitations_url(org["id"]), headers=partner.headers, params={"status": "expired"}
    )
    assert [(i["id"], i["status"]) for i in expired.json()["items"]] == [(inv["id"], "expired")]
    pending = await client.get(invitations_url(org["id"]), headers=partner.headers)
    assert pending.json()["items"] == []
    # The expired one no longer blocks a fresh invitation.
    fresh = await invite(client, partner, org["id"], invitee.email)
    assert fresh.status_code == 201
    assert (await accept(client, invitee, fresh.json()["id"])).status_code == 200


async def test_setting_bounds_expiry(client: AsyncClient, partner, settings) -> None:
    org = await make_org(client, partner)
    inv = (await invite(client, partner, org["id"], "later@example.org")).json()
    stored = await Invitation.get(PydanticObjectId(inv["id"]))
    lifetime = stored.expires_at - stored.created_at
    assert abs(lifetime - timedelta(days=settings.invitation_days)) < timedelta(seconds=5)
