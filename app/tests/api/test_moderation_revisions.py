"""Moderation means what it says: once staff approve an item, a member's edit to what readers
rely on waits as a pending revision (staff approve or reject it); cosmetic fields and staff
edits go live at once; `featured` is for staff only. Every decision is audited."""

from __future__ import annotations

from httpx import AsyncClient

from app.models.audit import AuditEntry
from app.models.opportunity import Opportunity
from app.tests.api import moderation_helpers
from app.tests.api.moderation_helpers import OPP, _actions, _etag
from app.tests.errors import assert_error
from app.tests.factories import make_opportunity, make_org

# The shared fixtures (an organisation, a live opportunity), used by name.
org = moderation_helpers.org
live = moderation_helpers.live


async def test_member_edit_waits_then_staff_approve(
    client: AsyncClient, live, partner, staff, entrepreneur
) -> None:
    url = f"{OPP}/{live['id']}"
    read = await client.get(url, headers=partner.headers)
    edit = await client.patch(
        url,
        headers={**partner.headers, **_etag(read)},
        json={"title": "Bait And Switch Loan", "amount_max": 900_000},
    )
    assert edit.status_code == 202, edit.text
    body = edit.json()
    assert body["title"] == "Original Grant"  # what is live did not change
    assert edit.headers["etag"] != read.headers["etag"]  # but the item (with its revision) did
    revision = body["pending_revision"]
    assert revision["changes"] == {
        "amount_max": {"before": 500_000, "after": 900_000},
        "title": {"before": "Original Grant", "after": "Bait And Switch Loan"},
    }
    assert revision["created_by"] == partner.id
    assert revision["item_version"] == body["version"]

    # Readers see the approved version only: item, list, search, and no hint of a revision.
    readers: list[dict[str, str]] = [{}, entrepreneur.headers]
    for who in readers:
        public = (await client.get(url, headers=who)).json()
        assert public["title"] == "Original Grant"
        assert public["amount_max"] == 500_000
        assert public["pending_revision"] is None
    assert (await client.get(OPP, params={"q": "bait switch"})).json()["items"] == []
    assert "Bait" not in (await client.get(OPP)).text
    assert (await Opportunity.get(live["id"])).updated_at.isoformat()[:19] == live["updated_at"][
        :19
    ]

    # The member sees it (and only it) as a sub-resource too.
    own = await client.get(f"{url}/revision", headers=partner.headers)
    assert own.status_code == 200
    assert own.json()["changes"] == revision["changes"]

    # Staff see it in the queue with the diff, and approve exactly that version.
    queue = (
        await client.get(
            "/api/v1/admin/moderation", headers=staff.headers, params={"moderation": "revision"}
        )
    ).json()["items"]
    assert [(q["id"], q["moderation"], q["title"]) for q in queue] == [
        (live["id"], "revision", "Original Grant")
    ]
    assert queue[0]["revision"]["changes"] == revision["changes"]
    approved = await client.post(
        f"{url}/revision/approve",
        headers={**staff.headers, "If-Match": f'"{queue[0]["version"]}"'},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["title"] == "Bait And Switch Loan"
    assert approved.json()["amount_max"] == 900_000
    assert approved.json()["pending_revision"] is None
    assert approved.json()["revision_decision"]["outcome"] == "approved"
    public = (await client.get(url)).json()
    assert public["title"] == "Bait And Switch Loan"
    assert public["revision_decision"] is None  # the organisation's business only
    assert [i["id"] for i in (await client.get(OPP, params={"q": "bait"})).json()["items"]] == [
        live["id"]
    ]
    assert (await client.get("/api/v1/admin/moderation", headers=staff.headers)).json()[
        "items"
    ] == []
    assert_error(
        (await client.get(f"{url}/revision", headers=partner.headers)), 404, "REVISION_NOT_FOUND"
    )

    assert await _actions(live["id"]) == [
        "create",
        "status_change",
        "revision_propose",
        "revision_approve",
    ]
    entry = await AuditEntry.find_one(
        AuditEntry.entity_id == live["id"], AuditEntry.action == "revision_approve"
    )
    assert entry.actor_id == staff.user.id
    assert entry.changes["title"] == {"before": "Original Grant", "after": "Bait And Switch Loan"}
    proposal = await AuditEntry.find_one(
        AuditEntry.entity_id == live["id"], AuditEntry.action == "revision_propose"
    )
    assert proposal.actor_id == partner.user.id
    assert proposal.changes["amount_max"] == {"before": 500_000, "after": 900_000}


async def test_staff_reject_with_reason(client: AsyncClient, live, partner, staff) -> None:
    url = f"{OPP}/{live['id']}"
    await client.patch(url, headers=partner.headers, json={"summary": "Guaranteed money"})
    assert (
        await client.post(f"{url}/revision/reject", headers=staff.headers, json={})
    ).status_code == 422  # a reason is required
    refused = await client.post(
        f"{url}/revision/reject", headers=partner.headers, json={"reason": "Self-approval"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "STAFF_ONLY"
    rejected = await client.post(
        f"{url}/revision/reject", headers=staff.headers, json={"reason": "Misleading claim"}
    )
    assert rejected.status_code == 200
    assert rejected.json()["summary"] == "Funding for founders"
    assert rejected.json()["pending_revision"] is None
    mine = (await client.get(url, headers=partner.headers)).json()
    assert mine["revision_decision"]["outcome"] == "rejected"
    assert mine["revision_decision"]["reason"] == "Misleading claim"
    assert (await client.get(url)).json()["summary"] == "Funding for founders"
    entry = await AuditEntry.find_one(
        AuditEntry.entity_id == live["id"], AuditEntry.action == "revision_reject"
    )
    assert entry.changes["reason"]["after"] == "Misleading claim"
    assert entry.changes["summary"] == {
        "before": "Guaranteed money",
        "after": "Funding for founders",
    }
    assert (await client.post(f"{url}/revision/approve", headers=staff.headers)).json()["error"][
        "code"
    ] == "REVISION_NOT_FOUND"


async def test_cosmetic_fields_go_live_moderated_wait(
    client: AsyncClient, live, partner, entrepreneur
) -> None:
    url = f"{OPP}/{live['id']}"
    cosmetic = await client.patch(
        url, headers=partner.headers, json={"tags": ["mentorship"], "sdgs": ["sdg-5"]}
    )
    assert cosmetic.status_code == 200
    assert cosmetic.json()["pending_revision"] is None
    assert (await client.get(url)).json()["tags"] == ["mentorship"]
    mixed = await client.patch(
        url, headers=partner.headers, json={"tags": ["export"], "deadline": "2099-05-05T00:00:00Z"}
    )
    assert mixed.status_code == 202
    public = (await client.get(url, headers=entrepreneur.headers)).json()
    assert public["tags"] == ["export"]  # live
    assert public["deadline"] == live["deadline"]  # waits
    assert set(mixed.json()["pending_revision"]["changes"]) == {"deadline"}
    # the live deadline still drives `open_now` and the deadline sort
    stored = await Opportunity.get(live["id"])
    assert stored.deadline_sort.isoformat().startswith("2099-01-01")


async def test_staff_and_admin_edits_are_live_and_audited(
    client: AsyncClient, live, staff, admin
) -> None:
    url = f"{OPP}/{live['id']}"
    for who, title in ((staff, "Staff Fixed Title"), (admin, "Admin Fixed Title")):
        response = await client.patch(url, headers=who.headers, json={"title": title})
        assert response.status_code == 200
        assert response.json()["pending_revision"] is None
        assert (await client.get(url)).json()["title"] == title
    entries = [
        (e.actor_role, e.changes["title"]["after"])
        async for e in AuditEntry.find(
            AuditEntry.entity_id == live["id"], AuditEntry.action == "update"
        ).sort("+at")
    ]
    assert entries == [("staff", "Staff Fixed Title"), ("admin", "Admin Fixed Title")]


async def test_unapproved_items_edit_live(client: AsyncClient, partner, org) -> None:
    draft = await make_opportunity(client, partner, org["id"])
    response = await client.patch(
        f"{OPP}/{draft['id']}", headers=partner.headers, json={"title": "Draft retitled"}
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Draft retitled"
    await client.post(f"{OPP}/{draft['id']}/submit", headers=partner.headers)
    pending = await client.patch(
        f"{OPP}/{draft['id']}", headers=partner.headers, json={"title": "Under review"}
    )
    assert pending.status_code == 200  # staff review it as a whole before it is public


async def test_further_edits_update_the_one_revision(client: AsyncClient, live, partner) -> None:
    url = f"{OPP}/{live['id']}"
    first = await client.patch(url, headers=partner.headers, json={"title": "First Proposal"})
    revision_id = first.json()["pending_revision"]["id"]
    second = await client.patch(
        url, headers=partner.headers, json={"title": "Second Proposal", "amount_min": 200_000}
    )
    assert second.status_code == 202
    revision = second.json()["pending_revision"]
    assert revision["id"] == revision_id  # one pending revision per item
    assert {k: v["after"] for k, v in revision["changes"].items()} == {
        "title": "Second Proposal",
        "amount_min": 200_000,
    }
    # Proposing the live value again takes that field back.
    back = await client.patch(url, headers=partner.headers, json={"amount_min": 100_000})
    assert set(back.json()["pending_revision"]["changes"]) == {"title"}
    # Taking everything back withdraws the revision.
    none_left = await client.patch(url, headers=partner.headers, json={"title": "Original Grant"})
    assert none_left.status_code == 200
    assert none_left.json()["pending_revision"] is None
    assert none_left.json()["revision_decision"]["outcome"] == "withdrawn"
    # The merged state must still be valid: min above the live max is refused.
    bad = await client.patch(url, headers=partner.headers, json={"amount_min": 600_000})
    assert_error(bad, 422, "VALIDATION_ERROR")
    assert (await client.get(url, headers=partner.headers)).json()["pending_revision"] is None


async def test_rules_apply_to_live_plus_pending(client: AsyncClient, live, partner) -> None:
    url = f"{OPP}/{live['id']}"
    await client.patch(url, headers=partner.headers, json={"amount_max": 50_000_000})
    # valid only together with the pending max (the live max is 500k)
    ok = await client.patch(url, headers=partner.headers, json={"amount_min": 10_000_000})
    assert ok.status_code == 202
    rolling = await client.patch(url, headers=partner.headers, json={"rolling": True})
    changes = rolling.json()["pending_revision"]["changes"]
    assert changes["rolling"]["after"] is True
    assert changes["deadline"] == {"before": live["deadline"], "after": None}


async def test_member_withdraws(client: AsyncClient, live, partner, make_user, staff) -> None:
    url = f"{OPP}/{live['id']}"
    proposed = await client.patch(url, headers=partner.headers, json={"title": "Oops Title"})
    other = await make_user(role="partner")
    await make_org(client, other)
    assert_error(
        (await client.delete(f"{url}/revision", headers=other.headers)),
        403,
        "NOT_ORGANISATION_MEMBER",
    )
    assert_error(
        (await client.get(f"{url}/revision", headers=other.headers)), 403, "NOT_ORGANISATION_MEMBER"
    )
    assert_error((await client.get(f"{url}/revision")), 401, "NOT_AUTHENTICATED")
    stale = await client.delete(f"{url}/revision", headers={**partner.headers, "If-Match": '"1"'})
    assert_error(stale, 412, "VERSION_MISMATCH")
    gone = await client.delete(f"{url}/revision", headers={**partner.headers, **_etag(proposed)})
    assert gone.status_code == 204
    again = await client.delete(f"{url}/revision", headers=partner.headers)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "REVISION_NOT_FOUND"
    mine = (await client.get(url, headers=partner.headers)).json()
    assert mine["title"] == "Original Grant"
    assert mine["revision_decision"]["outcome"] == "withdrawn"
    assert "revision_withdraw" in await _actions(live["id"])


async def test_stale_if_match(client: AsyncClient, live, partner, staff, make_user) -> None:
    url = f"{OPP}/{live['id']}"
    read = await client.get(url, headers=partner.headers)
    first = await client.patch(
        url, headers={**partner.headers, **_etag(read)}, json={"title": "Colleague One"}
    )
    assert first.status_code == 202
    # A colleague who read before the first proposal cannot overwrite it unseen.
    second = await client.patch(
        url, headers={**partner.headers, **_etag(read)}, json={"title": "Colleague Two"}
    )
    assert_error(second, 412, "VERSION_MISMATCH")
    # Staff who reviewed the first proposal cannot approve a later one unseen.
    reviewed = first.headers["etag"]
    await client.patch(url, headers=partner.headers, json={"title": "Sneaked In Later"})
    approve = await client.post(
        f"{url}/revision/approve", headers={**staff.headers, "If-Match": reviewed}
    )
    assert approve.status_code == 412
    assert approve.json()["error"]["code"] == "VERSION_MISMATCH"
    assert (await client.get(url)).json()["title"] == "Original Grant"
    bad = await client.post(
        f"{url}/revision/approve", headers={**staff.headers, "If-Match": "garbage"}
    )
    assert_error(bad, 412, "INVALID_IF_MATCH")


async def test_revision_that_became_invalid(
    client: AsyncClient, live, partner, staff, admin
) -> None:
    url = f"{OPP}/{live['id']}"
    await client.patch(url, headers=partner.headers, json={"amount_min": 400_000})
    # Staff lower the live maximum meanwhile: the proposed minimum no longer fits.
    await client.patch(url, headers=staff.headers, json={"amount_max": 300_000})
    refused = await client.post(f"{url}/revision/approve", headers=staff.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "REVISION_INVALID"
    assert "amount_min must not exceed amount_max" in refused.text
    assert (await client.get(url)).json()["amount_min"] == 100_000
    assert (await client.get(f"{url}/revision", headers=partner.headers)).status_code == 200
    # It does not block cosmetic edits; a moderated one must make the whole state valid.
    tags = await client.patch(url, headers=partner.headers, json={"tags": ["export"]})
    assert tags.status_code == 200
    still_bad = await client.patch(url, headers=partner.headers, json={"summary": "New words"})
    assert_error(still_bad, 422, "VALIDATION_ERROR")
    fixed = await client.patch(
        url, headers=partner.headers, json={"summary": "New words", "amount_min": 250_000}
    )
    assert fixed.status_code == 202
    # A reference retired meanwhile makes it invalid too.
    await client.delete(f"{url}/revision", headers=partner.headers)
    await client.patch(url, headers=partner.headers, json={"type": "loan"})
    retired = await client.patch(
        "/api/v1/admin/reference/opportunity-types/loan",
        headers=admin.headers,
        json={"active": False},
    )
    assert retired.status_code == 200
    stale_ref = await client.post(f"{url}/revision/approve", headers=staff.headers)
    assert stale_ref.status_code == 409
    assert stale_ref.json()["error"]["code"] == "REVISION_INVALID"
    assert (await client.get(url)).json()["type"] == "grant"


async def test_item_closed_or_archived_meanwhile(client: AsyncClient, live, partner, staff) -> None:
    url = f"{OPP}/{live['id']}"
    await client.patch(url, headers=partner.headers, json={"title": "While Open"})
    await client.post(f"{url}/close", headers=partner.headers)
    # Closed items stay under moderation (staff can reopen them without a new review).
    closed_edit = await client.patch(url, headers=partner.headers, json={"summary": "Closed now"})
    assert closed_edit.status_code == 202
    assert set(closed_edit.json()["pending_revision"]["changes"]) == {"title", "summary"}
    await client.delete(url, headers=partner.headers)  # archive
    queue = (await client.get("/api/v1/admin/moderation", headers=staff.headers)).json()
    assert queue["items"] == []  # nothing staff can approve while archived
    archived = await client.post(f"{url}/revision/approve", headers=staff.headers)
    assert archived.status_code == 409
    assert archived.json()["error"]["code"] == "ITEM_ARCHIVED"
    assert (
        await client.patch(url, headers=partner.headers, json={"title": "Archived edit"})
    ).status_code == 409
    restored = await client.post(f"{url}/restore", headers=staff.headers)
    assert restored.json()["status"] == "closed"
    assert restored.json()["pending_revision"]["changes"]["title"]["after"] == "While Open"
    assert (
        len((await client.get("/api/v1/admin/moderation", headers=staff.headers)).json()["items"])
        == 1
    )
    approved = await client.post(f"{url}/revision/approve", headers=staff.headers)
    assert approved.status_code == 200
    assert approved.json()["title"] == "While Open"
    assert approved.json()["status"] == "closed"
    reopened = await client.post(f"{url}/publish", headers=staff.headers)
    assert reopened.json()["title"] == "While Open"
