"""Reference data: public cacheable reads, admin changes, slug validation."""

from __future__ import annotations

from httpx import AsyncClient

from app.models.audit import AuditEntry
from app.tests.errors import assert_error
from app.tests.factories import make_org, opportunity_body


async def test_sdgs_seeded_with_numbers(client: AsyncClient) -> None:
    response = await client.get("/api/v1/reference/sdgs")
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 17
    assert [i["number"] for i in items] == list(range(1, 18))
    assert items[12]["name"] == "Climate Action"
    for kind in ("industries", "opportunity-types", "event-types", "target-communities", "tags"):
        listed = (await client.get(f"/api/v1/reference/{kind}")).json()["items"]
        assert len(listed) >= 5, kind


async def test_etag_and_cache_control(client: AsyncClient) -> None:
    first = await client.get("/api/v1/reference/industries")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=300"
    again = await client.get("/api/v1/reference/industries", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


async def test_unknown_kind_is_422(client: AsyncClient) -> None:
    assert_error((await client.get("/api/v1/reference/planets")), 422, "VALIDATION_ERROR")


async def test_admin_create_update_retire_changes_etag_and_audits(
    client: AsyncClient, admin
) -> None:
    etag = (await client.get("/api/v1/reference/tags")).headers["etag"]
    created = await client.post(
        "/api/v1/admin/reference/tags",
        headers=admin.headers,
        json={"slug": "blue-economy", "name": "Blue Economy"},
    )
    assert created.status_code == 201
    location = created.headers["location"]
    assert location == "/api/v1/admin/reference/tags/blue-economy"
    read = await client.get(location, headers=admin.headers)
    assert read.json() == created.json()
    assert_error(
        await client.get("/api/v1/admin/reference/tags/nope", headers=admin.headers),
        404,
        "REFERENCE_NOT_FOUND",
    )
    duplicate = await client.post(
        "/api/v1/admin/reference/tags",
        headers=admin.headers,
        json={"slug": "blue-economy", "name": "Again"},
    )
    assert_error(duplicate, 409, "REFERENCE_SLUG_TAKEN")
    listed = await client.get("/api/v1/reference/tags", headers={"If-None-Match": etag})
    assert listed.status_code == 200
    assert "blue-economy" in [i["slug"] for i in listed.json()["items"]]
    renamed = await client.patch(
        "/api/v1/admin/reference/tags/blue-economy",
        headers=admin.headers,
        json={"name": "Ocean Economy"},
    )
    assert renamed.json()["name"] == "Ocean Economy"
    retired = await client.post(
        "/api/v1/admin/reference/tags/blue-economy/retire", headers=admin.headers
    )
    assert retired.json()["active"] is False
    public = (await client.get("/api/v1/reference/tags")).json()["items"]
    assert "blue-economy" not in [i["slug"] for i in public]
    everything = (await client.get("/api/v1/admin/reference/tags", headers=admin.headers)).json()[
        "items"
    ]
    assert "blue-economy" in [i["slug"] for i in everything]
    actions = [e.action async for e in AuditEntry.find(AuditEntry.entity == "reference")]
    assert actions == ["create", "update", "retire"]
    entry = await AuditEntry.find_one({"action": "update"})
    assert entry.changes["name"] == {"before": "Blue Economy", "after": "Ocean Economy"}


async def test_bad_slug_format_is_422(client: AsyncClient, admin) -> None:
    response = await client.post(
        "/api/v1/admin/reference/tags",
        headers=admin.headers,
        json={"slug": "Not A Slug", "name": "x"},
    )
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_unknown_and_retired_slugs_rejected_on_documents(
    client: AsyncClient, partner, admin
) -> None:
    org = await make_org(client, partner)
    bad = await client.post(
        "/api/v1/opportunities",
        headers=partner.headers,
        json=opportunity_body(org["id"], industries=["fintech", "space-mining"]),
    )
    assert bad.status_code == 422
    body = bad.json()["error"]
    assert body["code"] == "UNKNOWN_REFERENCE"
    assert [d["input"] for d in body["details"]] == ["space-mining"]
    await client.post("/api/v1/admin/reference/industries/fintech/retire", headers=admin.headers)
    retired = await client.post(
        "/api/v1/opportunities",
        headers=partner.headers,
        json=opportunity_body(org["id"], industries=["fintech"]),
    )
    assert_error(retired, 422, "UNKNOWN_REFERENCE")
    wrong_type = await client.post(
        "/api/v1/opportunities",
        headers=partner.headers,
        json=opportunity_body(org["id"], type="lottery"),
    )
    assert_error(wrong_type, 422, "UNKNOWN_REFERENCE")


async def test_unknown_slug_details_point_where_the_client_sent_it(
    client: AsyncClient, partner, entrepreneur
) -> None:
    """A form maps `details[].loc` to its fields: a query parameter is `query`, a saved
    search's `query.type` is in the body's `query`, a document field is in the body."""

    async def locs(response) -> set[tuple[str, ...]]:
        assert_error(response, 422, "UNKNOWN_REFERENCE")
        return {tuple(d["loc"]) for d in response.json()["error"]["details"]}

    h = entrepreneur.headers
    listed = await client.get("/api/v1/opportunities", params={"type": "lottery"})
    assert await locs(listed) == {("query", "type")}
    events = await client.get("/api/v1/events", params={"target_communities[]": "pirates"})
    assert await locs(events) == {("query", "target_communities")}
    profiles = await client.get("/api/v1/profiles", headers=h, params={"industry": "space-mining"})
    assert await locs(profiles) == {("query", "industry")}
    saved = await client.post(
        "/api/v1/me/saved-searches",
        headers=h,
        json={"name": "x", "kind": "opportunity", "query": {"type": ["lottery"]}},
    )
    assert await locs(saved) == {("body", "query", "type")}
    org = await make_org(client, partner)
    body = opportunity_body(org["id"], industries=["space-mining"])
    created = await client.post("/api/v1/opportunities", headers=partner.headers, json=body)
    assert await locs(created) == {("body", "industries")}
