"""Organisation invitations, continued: owners list and revoke, quotas, validation, the two
steps of an acceptance and the races between them, audit.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from beanie import PydanticObjectId
from httpx import AsyncClient

from app.models.audit import AuditEntry
from app.models.base import utcnow
from app.models.email import OutboxEmail
from app.models.invitation import Invitation, InvitationStatus, pending_slot
from app.models.organisation import Organisation
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
