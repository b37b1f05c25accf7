"""Opportunity lists: text search, filters, facets, paging, incremental sync; saves,
applications and views (counted once per user per day)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import AsyncClient

from app.tests.errors import assert_error
from app.tests.factories import make_opportunity, make_org

API = "/api/v1/opportunities"


@pytest.fixture
async def catalogue_items(client: AsyncClient, make_user, staff):
    owner = await make_user(role="partner")
    org = await make_org(client, owner, name="Fondation Énergie")
    specs: list[dict[str, Any]] = [
        {"title": "Café Growth Grant", "type": "grant", "industries": ["agriculture-food"], "sdgs": ["sdg-2"],
         "eligibility": {"countries": ["KE"], "stages": ["idea"]}, "deadline": "2099-01-05T00:00:00Z",
         "amount_min": 100_000, "amount_max": 200_000, "currency": "USD"},
        {"title": "Solar Loan", "type": "loan", "industries": ["clean-energy"], "sdgs": ["sdg-7"],
         "eligibility": {"countries": ["NG"], "stages": ["growth"]}, "deadline": "2099-01-03T00:00:00Z",
         "amount_min": 1_000_000, "amount_max": 5_000_000, "currency": "USD"},
        {"title": "Green Seed Equity", "type": "equity", "industries": ["clean-energy"], "sdgs": ["sdg-7", "sdg-13"],
         "eligibility": {"countries": ["KE", "NG"]}, "deadline": None, "rolling": True,
         "amount_min": 5_000_000, "amount_max": 9_000_000, "currency": "EUR"},
        {"title": "Women Founders Accelerator", "type": "accelerator", "industries": ["fintech"],
         "target_communities": ["women-founders"], "tags": ["mentorship"], "deadline": "2099-01-01T00:00:00Z",
         "amount_min": None, "amount_max": None, "currency": None, "summary": "Coffee and energy for founders"},
    ]  # fmt: skip
    items = []
    for spec in specs:
        items.append(await make_opportunity(client, owner, org["id"], publish_as=staff, **spec))
    for i in range(8):
        items.append(await make_opportunity(client, owner, org["id"], publish_as=staff, title=f"Filler {i}",
                                            deadline=f"2099-02-{i + 1:02d}T00:00:00Z",
                                            amount_min=None, amount_max=None, currency=None))  # fmt: skip
    return {"org": org, "items": items, "owner": owner}


def _titles(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [i["title"] for i in response.json()["items"]]


async def test_text_search_accent_and_case_insensitive(
    client: AsyncClient, catalogue_items
) -> None:
    assert _titles(await client.get(API, params={"q": "CAFE"})) == ["Café Growth Grant"]
    assert _titles(await client.get(API, params={"q": "café grants"})) == ["Café Growth Grant"]
    # organisation name (with accents) is searchable
    assert len(_titles(await client.get(API, params={"q": "energie", "limit": 100}))) == 12
    # relevance: title matches outrank summary matches
    ranked = _titles(await client.get(API, params={"q": "energy"}))
    assert ranked == ["Women Founders Accelerator"]
    by_tag = _titles(await client.get(API, params={"q": "mentorship"}))
    assert by_tag == ["Women Founders Accelerator"]
    ranked = _titles(await client.get(API, params={"q": "founders"}))
    assert ranked[0] == "Women Founders Accelerator"
    assert_error((await client.get(API, params={"q": "!!!"})), 422, "INVALID_QUERY")


async def test_filters(client: AsyncClient, catalogue_items) -> None:
    def get(**params):
        return client.get(API, params={"limit": 100, **params})

    assert _titles(await get(type="loan")) == ["Solar Loan"]
    assert sorted(_titles(await get(type="loan,equity"))) == ["Green Seed Equity", "Solar Loan"]
    assert sorted(_titles(await get(industries="clean-energy"))) == [
        "Green Seed Equity",
        "Solar Loan",
    ]
    assert _titles(await get(sdgs="sdg-13")) == ["Green Seed Equity"]
    assert sorted(_titles(await get(country="KE"))) == ["Café Growth Grant", "Green Seed Equity"]
    assert _titles(await get(stages="growth")) == ["Solar Loan"]
    assert _titles(await get(target_communities="women-founders")) == ["Women Founders Accelerator"]
    assert _titles(await get(tags="mentorship")) == ["Women Founders Accelerator"]
    assert _titles(
        await get(deadline_from="2099-01-02T00:00:00Z", deadline_to="2099-01-04T00:00:00Z")
    ) == ["Solar Loan"]
    assert sorted(_titles(await get(amount_min=150_000, amount_max=2_000_000, currency="USD"))) == [
        "Café Growth Grant",
        "Solar Loan",
    ]
    assert _titles(await get(organisation=catalogue_items["org"]["slug"], q="solar")) == [
        "Solar Loan"
    ]
    assert _titles(await get(organisation="64b7f0c2a1b2c3d4e5f60718")) == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"sort": "password"}, "INVALID_SORT"),
        ({"sort": "relevance"}, "INVALID_SORT"),  # needs q
        ({"cursor": "!!!"}, "INVALID_CURSOR"),
        # another sort's cursor
        ({"cursor": "eyJzIjoibmV3ZXN0IiwidiI6WyJ2IiwxXSwiaSI6IngifQ"}, "INVALID_CURSOR"),
        ({"limit": 500}, "VALIDATION_ERROR"),
        ({"type": "lottery"}, "UNKNOWN_REFERENCE"),
        ({"country": "Narnia"}, "VALIDATION_ERROR"),
        ({"deadline_from": "yesterday"}, "VALIDATION_ERROR"),
        ({"amount_min": 5}, "CURRENCY_REQUIRED"),  # without currency
        ({"facets": "type,password_hash"}, "INVALID_FACET"),
        ({"stages": "unicorn"}, "VALIDATION_ERROR"),
        ({"q[$ne]": "x"}, "INVALID_QUERY"),  # operator-shaped names: the query guard
        ({"status[$ne]": "draft"}, "INVALID_QUERY"),
        ({"q": "a"}, "INVALID_QUERY"),  # no searchable word
        ({"unknown": "1"}, "VALIDATION_ERROR"),  # unknown parameters are refused
    ],
)
async def test_bad_list_params_are_422(client: AsyncClient, catalogue_items, params, code) -> None:
    response = await client.get(API, params=params)
    assert_error(response, 422, code)


@pytest.mark.parametrize("sort", ["deadline", "newest", "updated", "relevance"])
async def test_paging_returns_every_item_once(client: AsyncClient, catalogue_items, sort) -> None:
    params = {"limit": 5, "sort": sort}
    if sort == "relevance":
        params["q"] = "energie"
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        response = await client.get(
            API, params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 12
    if sort == "deadline":
        full = (await client.get(API, params={"limit": 100, "sort": "deadline"})).json()["items"]
        assert [i["id"] for i in full] == seen
        deadlines = [i["deadline"] for i in full]
        dated = [d for d in deadlines if d]
        assert dated == sorted(dated)
        assert deadlines[-1] is None


async def test_facets_follow_filter(client: AsyncClient, catalogue_items) -> None:
    response = await client.get(
        API, params={"facets": "type,industries,country,sdgs", "industries": "clean-energy"}
    )
    facets = response.json()["facets"]
    assert {f["value"]: f["count"] for f in facets["type"]} == {"loan": 1, "equity": 1}
    assert {f["value"]: f["count"] for f in facets["country"]} == {"NG": 2, "KE": 1}
    assert {f["value"]: f["count"] for f in facets["sdgs"]} == {"sdg-7": 2, "sdg-13": 1}
    assert facets["industries"] == [{"value": "clean-energy", "count": 2}]
    total = await client.get(API, params={"include_total": "true", "limit": 1})
    assert total.json()["total"] == 12


async def test_updated_since_includes_items_that_left(
    client: AsyncClient, catalogue_items, staff
) -> None:
    owner = catalogue_items["owner"]
    mark = datetime.now(UTC)
    solar = next(i for i in catalogue_items["items"] if i["title"] == "Solar Loan")
    cafe = next(i for i in catalogue_items["items"] if i["title"] == "Café Growth Grant")
    await client.delete(f"{API}/{solar['id']}", headers=owner.headers)
    # A cosmetic edit goes live (and syncs); a moderated one waits for staff (and does not).
    await client.patch(f"{API}/{cafe['id']}", headers=owner.headers, json={"tags": ["funding"]})
    draft = await make_opportunity(
        client, owner, catalogue_items["org"]["id"], title="Never public"
    )
    synced = (await client.get(API, params={"updated_since": mark.isoformat()})).json()["items"]
    by_id = {i["id"]: i for i in synced}
    assert set(by_id) == {solar["id"], cafe["id"]}
    assert by_id[cafe["id"]]["title"] == "Café Growth Grant"
    assert by_id[cafe["id"]]["tags"] == ["funding"]
    assert set(by_id[solar["id"]]) == {"id", "status", "updated_at"}  # a tombstone
    assert by_id[solar["id"]]["status"] == "archived"
    assert draft["id"] not in by_id


# --- interactions ---------------------------------------------------------------------------


async def test_save_apply_and_my_list(client: AsyncClient, catalogue_items, entrepreneur) -> None:
    item = catalogue_items["items"][0]
    url = f"{API}/{item['id']}"
    assert_error((await client.put(f"{url}/save")), 401, "NOT_AUTHENTICATED")
    for _ in range(2):  # idempotent
        saved = await client.put(f"{url}/save", headers=entrepreneur.headers)
        assert saved.status_code == 200
        assert saved.json()["saved"] is True
    assert (await client.get(url)).json()["saves"] == 1
    applied = await client.put(
        f"{url}/application", headers=entrepreneur.headers, json={"status": "applied"}
    )
    assert applied.json()["application_status"] == "applied"
    await client.put(f"{url}/application", headers=entrepreneur.headers, json={"status": "awarded"})
    assert (await client.get(url)).json()["applications"] == 1
    bad = await client.put(
        f"{url}/application", headers=entrepreneur.headers, json={"status": "won-lottery"}
    )
    assert_error(bad, 422, "VALIDATION_ERROR")
    other = catalogue_items["items"][1]
    await client.put(
        f"{API}/{other['id']}/application",
        headers=entrepreneur.headers,
        json={"status": "interested"},
    )
    saved_list = (
        await client.get(
            "/api/v1/me/opportunities", headers=entrepreneur.headers, params={"status": "saved"}
        )
    ).json()
    assert [r["opportunity"]["id"] for r in saved_list["items"]] == [item["id"]]
    awarded = (
        await client.get(
            "/api/v1/me/opportunities", headers=entrepreneur.headers, params={"status": "awarded"}
        )
    ).json()
    assert [r["opportunity"]["id"] for r in awarded["items"]] == [item["id"]]
    everything = (await client.get("/api/v1/me/opportunities", headers=entrepreneur.headers)).json()
    assert {r["opportunity"]["id"] for r in everything["items"]} == {item["id"], other["id"]}
    assert (
        await client.get(
            "/api/v1/me/opportunities", headers=entrepreneur.headers, params={"status": "x"}
        )
    ).status_code == 422
    unsaved = await client.delete(f"{url}/save", headers=entrepreneur.headers)
    assert unsaved.json()["saved"] is False
    assert (await client.get(url)).json()["saves"] == 0


async def test_views_counted_once_per_user_per_day(
    client: AsyncClient, catalogue_items, entrepreneur, make_user
) -> None:
    item = catalogue_items["items"][0]
    url = f"{API}/{item['id']}"
    for _ in range(3):
        await client.get(url, headers=entrepreneur.headers)
    await client.get(url)  # anonymous views are not counted
    other = await make_user()
    await client.get(url, headers=other.headers)
    assert (await client.get(url)).json()["views"] == 2


async def test_array_parameters_repeated_comma_or_brackets(
    client: AsyncClient, catalogue_items
) -> None:
    """Lists take `?type=a&type=b`, `?type=a,b` and axios/qs's `?type[]=a&type[]=b` alike."""
    expected = ["Green Seed Equity", "Solar Loan"]
    repeated = _titles(await client.get(f"{API}?type=loan&type=equity"))
    assert sorted(repeated) == sorted(expected)
    assert sorted(_titles(await client.get(f"{API}?type=loan,equity"))) == sorted(expected)
    brackets = await client.get(f"{API}?type[]=loan&type[]=equity&facets[]=type&facets[]=tags")
    assert sorted(_titles(brackets)) == sorted(expected)
    assert set(brackets.json()["facets"]) == {"type", "tags"}
    encoded = await client.get(f"{API}?type%5B%5D=loan&type%5B%5D=equity")  # as axios encodes
    assert sorted(_titles(encoded)) == sorted(expected)


async def test_brackets_on_a_scalar_parameter_or_with_content_are_refused(
    client: AsyncClient,
) -> None:
    assert_error(await client.get(f"{API}?limit[]=5"), 422, "INVALID_QUERY")
    assert_error(await client.get(f"{API}?type[0]=grant"), 422, "INVALID_QUERY")
    assert_error(await client.get(f"{API}?type[][]=grant"), 422, "INVALID_QUERY")
    assert_error(await client.get(f"{API}?nope[]=1"), 422, "VALIDATION_ERROR")
