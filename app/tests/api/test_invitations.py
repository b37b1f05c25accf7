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
from app.models.audit import AuditEntry
from app.models.base import utcnow
from app.models.email import OutboxEmail
from app.models.invitation import Invitation, InvitationStatus, pending_slot
from app.models.organisation import Organisation
from app.models.user import User
from app.tests.errors import assert_error
from app.tests.factories import add_member, make_org

API = "/api/v1"


def invitations_url(org_id: str) -> str:
    return f"{API}/organisations/{org_id}/invitations"


async def invite(client: AsyncClient, owner, org_id: str, email: str, role: str = "editor"):
    response = await client.post(
        invitations_url(org_id), headers=owner.headers, json={"email": email, "role": role}
    )
    await mail_queue.drain()  # the invitation e-mail is sent off the request path
    return response


async def accept(client: AsyncClient, user, invitation_id: str):
    return await client.post(f"{API}/me/invitations/{invitation_id}/accept", headers=user.headers)


async def decline(client: AsyncClient, user, invitation_id: str):
    return await client.post(f"{API}/me/invitations/{invitation_id}/decline", headers=user.headers)


async def members(org_id: str) -> dict[str, str]:
    org = await Organisation.get(PydanticObjectId(org_id))
    assert org is not None
    return {str(m.user_id): m.role.value for m in org.members}


async def audit_actions(org_id: str) -> list[str]:
    entries = await AuditEntry.find(AuditEntry.entity_id == org_id).sort("+at").to_list()
    return [e.action for e in entries]


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


# --- owners: list and revoke ----------------------------------------------------------------------


async def test_owners_list_and_revoke(client: AsyncClient, partner, make_user, staff) -> None:
    org = await make_org(client, partner)
    editor = await make_user(role="partner")
    outsider = await make_user(role="partner")
    invitee = await make_user(role="entrepreneur")
    await add_member(client, partner, org["id"], editor, "editor")
    inv = (await invite(client, partner, org["id"], invitee.email)).json()
    await invite(client, partner, org["id"], "other@example.org", "owner")
    listed = await client.get(invitations_url(org["id"]), headers=partner.headers)
    assert listed.status_code == 200
    assert [i["email"] for i in listed.json()["items"]] == ["other@example.org", invitee.email]
    one = await client.get(f"{invitations_url(org['id'])}/{inv['id']}", headers=partner.headers)
    assert one.json() == inv
    assert (await client.get(invitations_url(org["id"]), headers=staff.headers)).status_code == 200
    for caller, code in ((editor, "NOT_ORGANISATION_OWNER"), (outsider, "NOT_ORGANISATION_MEMBER")):
        refused = await client.get(invitations_url(org["id"]), headers=caller.headers)
        assert_error(refused, 403, code)
        refused = await client.delete(
            f"{invitations_url(org['id'])}/{inv['id']}", headers=caller.headers
        )
        assert_error(refused, 403, code)
    # An invitation of another organisation is not found through this one.
    other_org = await make_org(client, outsider)
    assert (
        await client.delete(
            f"{invitations_url(other_org['id'])}/{inv['id']}", headers=outsider.headers
        )
    ).status_code == 404
    url = f"{invitations_url(org['id'])}/{inv['id']}"
    assert (await client.delete(url, headers=partner.headers)).status_code == 204
    assert (await client.delete(url, headers=partner.headers)).status_code == 204  # harmless
    late = await accept(client, invitee, inv["id"])
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "INVITATION_NOT_PENDING"
    revoked = await client.get(
        invitations_url(org["id"]), headers=partner.headers, params={"status": "revoked"}
    )
    assert [i["id"] for i in revoked.json()["items"]] == [inv["id"]]
    # An accepted invitation cannot be revoked (remove the member instead).
    joined = (await invite(client, partner, org["id"], outsider.email)).json()
    assert (await accept(client, outsider, joined["id"])).status_code == 200
    refused = await client.delete(
        f"{invitations_url(org['id'])}/{joined['id']}", headers=partner.headers
    )
    assert_error(refused, 409, "INVITATION_NOT_PENDING")
    bad_status = await client.get(
        invitations_url(org["id"]), headers=partner.headers, params={"status": "bogus"}
    )
    assert_error(bad_status, 422, "VALIDATION_ERROR")


async def test_archiving_the_organisation_revokes_pending_invitations(
    client: AsyncClient, partner, make_user, staff
) -> None:
    org = await make_org(client, partner)
    invitee = await make_user(role="partner")
    inv = (await invite(client, partner, org["id"], invitee.email)).json()
    assert (
        await client.delete(f"{API}/organisations/{org['id']}", headers=partner.headers)
    ).status_code == 204
    late = await accept(client, invitee, inv["id"])
    assert late.status_code == 409
    refused = await invite(client, partner, org["id"], "new@example.org")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "ORGANISATION_ARCHIVED"
    assert await members(org["id"]) == {partner.id: "owner"}


@pytest.mark.parametrize("settings_overrides", [{"invitations_per_organisation_per_day": 3}])
async def test_daily_invitation_quota(client: AsyncClient, partner) -> None:
    org = await make_org(client, partner)
    for n in range(3):
        sent = await invite(client, partner, org["id"], f"p{n}@example.org")
        assert sent.status_code == 201
        # Revoking does not give the e-mail back.
        revoked = await client.delete(
            f"{invitations_url(org['id'])}/{sent.json()['id']}", headers=partner.headers
        )
        assert revoked.status_code == 204
    over = await invite(client, partner, org["id"], "p9@example.org")
    assert over.status_code == 429
    assert over.json()["error"]["code"] == "INVITATION_LIMIT"
    assert "retry-after" in over.headers
    other = await make_org(client, partner)
    assert (await invite(client, partner, other["id"], "p9@example.org")).status_code == 201


async def test_validation(client: AsyncClient, partner) -> None:
    org = await make_org(client, partner)
    for body in (
        {"email": "not-an-address"},
        {"email": "a@example.org", "role": "admin"},
        {"email": "a@example.org", "user_id": "x"},
        {},
    ):
        response = await client.post(invitations_url(org["id"]), headers=partner.headers, json=body)
        assert_error(response, 422, "VALIDATION_ERROR")
    assert await Invitation.find_all().count() == 0


# --- the two steps of an acceptance ---------------------------------------------------------------


async def test_interrupted_acceptance_is_completed_and_removed_members_cannot_replay(
    client: AsyncClient, partner, make_user
) -> None:
    org = await make_org(client, partner)
    invitee = await make_user(role="partner")
    inv = (await invite(client, partner, org["id"], invitee.email)).json()
    # A crash after the claim, before the member was added.
    await Invitation.get_motor_collection().update_one(
        {"_id": PydanticObjectId(inv["id"])},
        {
            "$set": {
                "status": "accepted",
                "accepted_by": invitee.user.id,
                "slot": inv["id"],
                "responded_at": utcnow(),
            }
        },
    )
    assert await members(org["id"]) == {partner.id: "owner"}
    completed = await accept(client, invitee, inv["id"])
    assert completed.status_code == 200
    assert await members(org["id"]) == {partner.id: "owner", invitee.id: "editor"}
    # Removed later: replaying the old acceptance does not bring them back.
    removed = await client.delete(
        f"{API}/organisations/{org['id']}/members/{invitee.id}", headers=partner.headers
    )
    assert removed.status_code == 200
    replay = await accept(client, invitee, inv["id"])
    assert replay.status_code == 200
    assert await members(org["id"]) == {partner.id: "owner"}


async def test_invitation_events_are_audited(client: AsyncClient, partner, make_user) -> None:
    org = await make_org(client, partner)
    a = await make_user(role="partner")
    b = await make_user(role="partner")
    inv_a = (await invite(client, partner, org["id"], a.email)).json()
    inv_b = (await invite(client, partner, org["id"], b.email)).json()
    inv_c = (await invite(client, partner, org["id"], "c@example.org")).json()
    await accept(client, a, inv_a["id"])
    await decline(client, b, inv_b["id"])
    await client.delete(f"{invitations_url(org['id'])}/{inv_c['id']}", headers=partner.headers)
    entries = await AuditEntry.find(AuditEntry.entity_id == org["id"]).sort("+at").to_list()
    assert [(e.action, str(e.actor_id)) for e in entries[1:]] == [
        ("invitation_create", partner.id),
        ("invitation_create", partner.id),
        ("invitation_create", partner.id),
        ("member_add", a.id),
        ("invitation_decline", b.id),
        ("invitation_revoke", partner.id),
    ]
    assert entries[1].changes["email"] == {"before": None, "after": a.email}
    assert entries[4].changes["member"] == {"before": None, "after": a.id}
    assert all(e.request_id for e in entries)


def test_pending_slot_is_per_organisation_and_address() -> None:
    a, b = PydanticObjectId(), PydanticObjectId()
    assert pending_slot(a, "x@example.org") != pending_slot(b, "x@example.org")
    assert pending_slot(a, "x@example.org") != pending_slot(a, "y@example.org")


async def test_organisation_name_cannot_inject_mail_headers(client: AsyncClient, partner) -> None:
    org = await make_org(client, partner, name="Evil Org\r\nBcc: victim@example.org")
    assert (await invite(client, partner, org["id"], "target@example.org")).status_code == 201
    mail = await OutboxEmail.find_one(OutboxEmail.to == "target@example.org")
    assert "\n" not in mail.subject
    assert "\r" not in mail.subject
    assert "Evil Org Bcc: victim@example.org" in mail.subject


# --- races between the two steps of an acceptance (forced by wrapping the driver's writes) ------


def after_claim(monkeypatch, side_effect) -> None:
    """Run `side_effect` right after the write that claims an invitation (pending → accepted),
    i.e. between the two steps of an acceptance."""
    collection = Invitation.get_motor_collection()
    original = collection.update_one

    async def update_one(filter_: dict, update: dict, *args: Any, **kwargs: Any) -> Any:
        result = await original(filter_, update, *args, **kwargs)
        if update.get("$set", {}).get("status") == "accepted" and result.modified_count:
            await side_effect()
        return result

    monkeypatch.setattr(collection, "update_one", update_one)


async def test_acceptance_undone_when_the_organisation_is_archived_meanwhile(
    client: AsyncClient, partner, make_user, monkeypatch
) -> None:
    org = await make_org(client, partner)
    invitee = await make_user(role="partner")
    inv = (await invite(client, partner, org["id"], invitee.email)).json()

    async def archive() -> None:
        await Organisation.get_motor_collection().update_one(
            {"_id": PydanticObjectId(org["id"])}, {"$set": {"archived": True}}
        )

    after_claim(monkeypatch, archive)
    refused = await accept(client, invitee, inv["id"])
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "CONCURRENT_CHANGE"
    stored = await Invitation.get(PydanticObjectId(inv["id"]))
    assert stored.status is InvitationStatus.pending  # the claim was undone
    assert stored.accepted_by is None
    assert stored.slot == pending_slot(stored.organisation_id, stored.email)
    assert await members(org["id"]) == {partner.id: "owner"}
    assert "member_add" not in await audit_actions(org["id"])


async def test_undone_acceptance_yields_to_a_newer_invitation(
    client: AsyncClient, partner, make_user, monkeypatch
) -> None:
    org = await make_org(client, partner)
    invitee = await make_user(role="partner")
    inv = (await invite(client, partner, org["id"], invitee.email)).json()
    newer: dict[str, Any] = {}

    async def archive_and_reinvite() -> None:
        # The slot was freed by the claim: a new invitation takes it, then the org goes.
        newer.update((await invite(client, partner, org["id"], invitee.email)).json())
        await Organisation.get_motor_collection().update_one(
            {"_id": PydanticObjectId(org["id"])}, {"$set": {"archived": True}}
        )

    after_claim(monkeypatch, archive_and_reinvite)
    assert_error((await accept(client, invitee, inv["id"])), 409, "CONCURRENT_CHANGE")
    old = await Invitation.get(PydanticObjectId(inv["id"]))
    assert old.status is InvitationStatus.revoked  # cannot be pending next to the newer one
    assert (await Invitation.get(PydanticObjectId(newer["id"]))).status is InvitationStatus.pending
    assert await members(org["id"]) == {partner.id: "owner"}


async def test_interleaved_acceptances_converge(
    client: AsyncClient, partner, make_user, monkeypatch
) -> None:
    """Two acceptances of one invitation that both reach the second step: one adds the
    member, the other sees it done; both answer 200, one member entry, one audit entry."""
    org = await make_org(client, partner)
    invitee = await make_user(role="partner")
    inv = (await invite(client, partner, org["id"], invitee.email)).json()
    collection = Organisation.get_motor_collection()
    original = collection.update_one
    arrived = 0
    both = asyncio.Event()

    async def update_one(*args: Any, **kwargs: Any) -> Any:
        nonlocal arrived
        arrived += 1
        if arrived >= 2:
            both.set()
        await asyncio.wait_for(both.wait(), timeout=5)
        return await original(*args, **kwargs)

    monkeypatch.setattr(collection, "update_one", update_one)
    answers = await asyncio.gather(
        accept(client, invitee, inv["id"]), accept(client, invitee, inv["id"])
    )
    assert [a.status_code for a in answers] == [200, 200]
    assert await members(org["id"]) == {partner.id: "owner", invitee.id: "editor"}
    assert (await audit_actions(org["id"])).count("member_add") == 1
    stored = await Invitation.get(PydanticObjectId(inv["id"]))
    assert stored.member_added_at is not None
