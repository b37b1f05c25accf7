"""Opportunities: creating, permissions, workflow, editing (lists: test_opportunity_lists.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.models.audit import AuditEntry
from app.models.interaction import OpportunityInteraction
from app.models.opportunity import Opportunity
from app.tests.errors import assert_error
from app.tests.factories import make_opportunity, make_org, opportunity_body

API = "/api/v1/opportunities"


@pytest.fixture
async def world(client: AsyncClient, make_user, partner, staff):
    """Org A (partner) and org B (another partner), each with a draft."""
    other = await make_user(role="partner")
    org_a = await make_org(client, partner, name="Org Alpha")
    org_b = await make_org(client, other, name="Org Beta")
    draft_a = await make_opportunity(client, partner, org_a["id"], title="Alpha draft grant")
    draft_b = await make_opportunity(client, other, org_b["id"], title="Beta draft grant")
    return {"other": other, "org_a": org_a, "org_b": org_b, "draft_a": draft_a, "draft_b": draft_b}


# --- create and validate --------------------------------------------------------------------


async def test_create_sanitises_and_normalises(client: AsyncClient, partner) -> None:
    org = await make_org(client, partner)
    response = await client.post(
        API,
        headers=partner.headers,
        json=opportunity_body(
            org["id"],
            title="Seed Fund",
            description='<p>Apply <a href="javascript:alert(1)">here</a><script>steal()</script><img src=x onerror=alert(1)></p>',
            deadline="2099-06-30T23:59:00+03:00",
            currency="usd",
        ),
    )
    assert response.status_code == 201
    item = response.json()
    assert response.headers["location"] == f"/api/v1/opportunities/{item['id']}"
    assert (
        await client.get(response.headers["location"], headers=partner.headers)
    ).status_code == 200
    assert "<script" not in item["description"]
    assert "javascript:" not in item["description"]
    assert "onerror" not in item["description"]
    assert "<img" not in item["description"]
    assert item["deadline"] == "2099-06-30T20:59:00Z"  # stored and returned in UTC
    assert item["currency"] == "USD"
    assert item["status"] == "draft"
    assert item["slug"] == "seed-fund"
    assert item["organisation"] == {"id": org["id"], "name": org["name"], "slug": org["slug"]}
    again = await client.post(
        API, headers=partner.headers, json=opportunity_body(org["id"], title="Seed Fund")
    )
    assert again.json()["slug"] == "seed-fund-2"
    explicit = await client.post(
        API,
        headers=partner.headers,
        json=opportunity_body(org["id"], title="Other", slug="seed-fund"),
    )
    assert_error(explicit, 409, "SLUG_TAKEN")


@pytest.mark.parametrize(
    "fields",
    [
        {"amount_min": 500, "amount_max": 100},
        {"amount_min": 100, "currency": None},
        {"currency": "ZZZ"},
        {"deadline": "2099-01-01T12:00:00"},  # naive: time zone required
        {"rolling": True},  # with the default deadline
        {"title": "x"},
        {"application_url": "not a url"},
        {"eligibility": {"countries": ["Narnia"]}},
        {"eligibility": {"stages": ["unicorn"]}},
        {"views": 1000},
        {"status": "published"},
        {"organisation_id": {"$ne": None}},
    ],
)
async def test_create_validation(client: AsyncClient, partner, fields) -> None:
    org = await make_org(client, partner)
    response = await client.post(
        API, headers=partner.headers, json=opportunity_body(org["id"], **fields)
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in {"VALIDATION_ERROR", "UNKNOWN_REFERENCE"}
    assert await Opportunity.find_all().count() == 0


async def test_create_permissions(client: AsyncClient, world, entrepreneur, partner, staff) -> None:
    body = opportunity_body(world["org_b"]["id"])
    assert_error((await client.post(API, json=body)), 401, "NOT_AUTHENTICATED")
    assert (await client.post(API, headers=entrepreneur.headers, json=body)).status_code == 403
    not_member = await client.post(API, headers=partner.headers, json=body)
    assert not_member.status_code == 403
    assert not_member.json()["error"]["code"] == "NOT_ORGANISATION_MEMBER"
    assert (await client.post(API, headers=staff.headers, json=body)).status_code == 201
    missing_org = await client.post(
        API, headers=staff.headers, json=opportunity_body("64b7f0c2a1b2c3d4e5f60718")
    )
    assert_error(missing_org, 404, "ORGANISATION_NOT_FOUND")


# --- visibility and object-level authorization ----------------------------------------------


async def test_drafts_hidden_from_others(
    client: AsyncClient, world, partner, entrepreneur, staff, admin
) -> None:
    url_b = f"{API}/{world['draft_b']['id']}"
    assert_error((await client.get(url_b)), 404, "OPPORTUNITY_NOT_FOUND")
    assert (await client.get(url_b, headers=entrepreneur.headers)).status_code == 404
    hidden = await client.get(url_b, headers=partner.headers)  # partner of org A
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "OPPORTUNITY_NOT_FOUND"
    assert (await client.get(url_b, headers=world["other"].headers)).status_code == 200
    assert (await client.get(url_b, headers=staff.headers)).status_code == 200
    assert (await client.get(url_b, headers=admin.headers)).status_code == 200
    # Writes to an unseen draft are 404 too, not 403.
    edit = await client.patch(url_b, headers=partner.headers, json={"title": "Mine now"})
    assert_error(edit, 404, "OPPORTUNITY_NOT_FOUND")
    submit = await client.post(f"{url_b}/submit", headers=partner.headers)
    assert_error(submit, 404, "OPPORTUNITY_NOT_FOUND")
    public = (await client.get(API)).json()["items"]
    assert public == []


async def test_published_item_of_other_org_is_read_only(
    client: AsyncClient, world, partner, staff
) -> None:
    published = await make_opportunity(
        client, world["other"], world["org_b"]["id"], publish_as=staff
    )
    url = f"{API}/{published['id']}"
    assert (await client.get(url, headers=partner.headers)).status_code == 200
    edit = await client.patch(url, headers=partner.headers, json={"title": "Defaced"})
    assert_error(edit, 403, "NOT_ORGANISATION_MEMBER")
    assert_error(
        (await client.delete(url, headers=partner.headers)), 403, "NOT_ORGANISATION_MEMBER"
    )
    assert (await client.get(url)).json()["title"] == published["title"]


async def test_lookup_by_slug_and_malformed_id(client: AsyncClient, world, staff) -> None:
    item = await make_opportunity(
        client, world["other"], world["org_b"]["id"], publish_as=staff, title="Slug Lookup"
    )
    assert (await client.get(f"{API}/slug-lookup")).json()["id"] == item["id"]
    assert_error((await client.get(f"{API}/not-an-id-or-slug")), 404, "OPPORTUNITY_NOT_FOUND")


# --- workflow -------------------------------------------------------------------------------


async def test_review_workflow(client: AsyncClient, world, partner, staff) -> None:
    url = f"{API}/{world['draft_a']['id']}"
    assert (
        await client.post(f"{url}/approve", headers=staff.headers)
    ).status_code == 409  # not submitted
    submitted = await client.post(f"{url}/submit", headers=partner.headers)
    assert submitted.json()["status"] == "pending_review"
    assert_error((await client.post(f"{url}/approve", headers=partner.headers)), 403, "STAFF_ONLY")
    rejected = await client.post(
        f"{url}/reject", headers=staff.headers, json={"reason": "Add eligibility"}
    )
    assert rejected.json()["status"] == "draft"
    assert rejected.json()["status_reason"] == "Add eligibility"
    assert_error(
        (await client.post(f"{url}/reject", headers=staff.headers, json={})),
        422,
        "VALIDATION_ERROR",
    )
    await client.post(f"{url}/submit", headers=partner.headers)
    approved = await client.post(f"{url}/approve", headers=staff.headers)
    assert approved.json()["status"] == "published"
    assert approved.json()["published_at"] is not None
    assert (await client.get(url)).status_code == 200
    assert_error(
        (await client.post(f"{url}/submit", headers=partner.headers)), 409, "INVALID_TRANSITION"
    )
    closed = await client.post(f"{url}/close", headers=partner.headers)
    assert closed.json()["status"] == "closed"
    assert_error((await client.get(url)), 404, "OPPORTUNITY_NOT_FOUND")  # no longer public
    reopened = await client.post(f"{url}/publish", headers=staff.headers)
    assert reopened.json()["status"] == "published"
    transitions = [
        (e.changes["status"]["before"], e.changes["status"]["after"])
        async for e in AuditEntry.find(AuditEntry.action == "status_change").sort("+at")
    ]
    assert transitions == [
        ("draft", "pending_review"),
        ("pending_review", "draft"),
        ("draft", "pending_review"),
        ("pending_review", "published"),
        ("published", "closed"),
        ("closed", "published"),
    ]


async def test_staff_and_admin_publish_directly_partner_cannot(
    client: AsyncClient, world, partner, admin
) -> None:
    url = f"{API}/{world['draft_a']['id']}"
    refused = await client.post(f"{url}/publish", headers=partner.headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "STAFF_ONLY"
    assert (await client.post(f"{url}/publish", headers=admin.headers)).json()[
        "status"
    ] == "published"


async def test_archive_restore_purge(client: AsyncClient, world, partner, staff, admin) -> None:
    item = await make_opportunity(client, partner, world["org_a"]["id"], publish_as=staff)
    url = f"{API}/{item['id']}"
    assert (await client.delete(url, headers=partner.headers)).status_code == 204
    assert_error((await client.get(url)), 404, "OPPORTUNITY_NOT_FOUND")
    assert item["id"] not in [i["id"] for i in (await client.get(API)).json()["items"]]
    archived = (await client.get(API, headers=staff.headers, params={"status": "archived"})).json()[
        "items"
    ]
    assert [i["id"] for i in archived] == [item["id"]]
    assert (
        await client.patch(url, headers=partner.headers, json={"title": "Edit archived"})
    ).status_code == 409
    assert_error((await client.post(f"{url}/restore", headers=partner.headers)), 403, "STAFF_ONLY")
    restored = await client.post(f"{url}/restore", headers=staff.headers)
    assert restored.json()["status"] == "published"
    await client.put(f"{url}/save", headers=staff.headers)
    await client.delete(url, headers=partner.headers)
    assert_error((await client.delete(f"{url}/purge", headers=staff.headers)), 403, "ADMIN_ONLY")
    assert (await client.delete(f"{url}/purge", headers=admin.headers)).status_code == 204
    assert await Opportunity.find_all().count() == 2  # the two drafts remain
    assert await OpportunityInteraction.find_all().count() == 0  # and nothing points at it
    actions = [
        e.action async for e in AuditEntry.find(AuditEntry.entity_id == item["id"]).sort("+at")
    ]
    assert actions == ["create", "status_change", "archive", "restore", "archive", "purge"]


async def test_past_deadline_reads_closed(client: AsyncClient, world, partner, staff) -> None:
    item = await make_opportunity(client, partner, world["org_a"]["id"], publish_as=staff)
    await Opportunity.find_one({"slug": item["slug"]}).update(
        {
            "$set": {
                "deadline": datetime.now(UTC) - timedelta(minutes=1),
                "deadline_sort": datetime.now(UTC) - timedelta(minutes=1),
            }
        }
    )
    read = (await client.get(f"{API}/{item['id']}")).json()
    assert read["status"] == "closed"
    open_now = (await client.get(API, params={"open_now": "true"})).json()["items"]
    assert open_now == []


# --- editing and lost updates ---------------------------------------------------------------


async def test_etag_if_match(client: AsyncClient, world, partner, make_user) -> None:
    url = f"{API}/{world['draft_a']['id']}"
    read = await client.get(url, headers=partner.headers)
    etag = read.headers["etag"]
    first = await client.patch(
        url, headers={**partner.headers, "If-Match": etag}, json={"title": "First writer"}
    )
    assert first.status_code == 200
    assert first.headers["etag"] != etag
    second = await client.patch(
        url, headers={**partner.headers, "If-Match": etag}, json={"title": "Second writer"}
    )
    assert_error(second, 412, "VERSION_MISMATCH")
    assert (await client.get(url, headers=partner.headers)).json()["title"] == "First writer"


async def test_partial_update_rules(client: AsyncClient, world, partner) -> None:
    url = f"{API}/{world['draft_a']['id']}"
    bad = await client.patch(url, headers=partner.headers, json={"amount_min": 10_000_000})
    assert_error(bad, 422, "VALIDATION_ERROR")  # above the stored amount_max
    rolling = await client.patch(url, headers=partner.headers, json={"rolling": True})
    assert rolling.status_code == 200
    assert rolling.json()["deadline"] is None
    mass = await client.patch(
        url, headers=partner.headers, json={"saves": 99, "status": "published"}
    )
    assert_error(mass, 422, "VALIDATION_ERROR")
    sanitised = await client.patch(
        url, headers=partner.headers, json={"description": "<script>x()</script>ok"}
    )
    assert sanitised.json()["description"] == "ok"


# --- search, filters, sorting, paging -------------------------------------------------------


async def test_cannot_save_unseen_draft(client: AsyncClient, world, entrepreneur) -> None:
    response = await client.put(
        f"{API}/{world['draft_b']['id']}/save", headers=entrepreneur.headers
    )
    assert_error(response, 404, "OPPORTUNITY_NOT_FOUND")


async def test_paging_through_nullable_sort_field(
    client: AsyncClient, world, partner, staff
) -> None:
    """Drafts have no published_at: paging `newest` (descending, nulls last) still returns
    every item once."""
    for i in range(4):
        await make_opportunity(client, partner, world["org_a"]["id"], title=f"Draft {i}")
    await make_opportunity(
        client, partner, world["org_a"]["id"], publish_as=staff, title="Published one"
    )
    for status, expected in (("draft", 6), ("published", 1)):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {
                "status": status,
                "sort": "newest",
                "limit": 2,
                **({"cursor": cursor} if cursor else {}),
            }
            page = (await client.get(API, headers=staff.headers, params=params)).json()
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == expected, status
