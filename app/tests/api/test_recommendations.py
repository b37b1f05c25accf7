"""Recommendations over HTTP: reasons per criterion, hard mismatches filtered (and shown on
request), unknowns ranked lower but never hidden, public items only, exact paging, the
profile-less fallback and bad input."""

from __future__ import annotations

from typing import Any

from app.tests.api.recommendation_helpers import (
    MET_RULES,
    ids,
    published,
    put_profile,
    reasons_of,
    recommended,
)
from app.tests.errors import assert_error
from app.tests.factories import API, make_opportunity, make_org

CRITERIA = [
    "industries",
    "stage",
    "location",
    "target_communities",
    "years_in_business",
    "team_size",
    "revenue_band",
    "amount",
    "sdgs",
    "interests",
]


async def test_every_criterion_explained_and_hard_mismatches_filtered(
    client, partner, staff, entrepreneur
) -> None:
    org = await make_org(client, partner)
    fits = await published(
        client, partner, staff, org,
        title="Market access grant", industries=["agriculture-food"], sdgs=["sdg-2"],
        eligibility=MET_RULES,
    )  # fmt: skip
    wrong_country = await published(
        client, partner, staff, org, eligibility={**MET_RULES, "countries": ["UG"]}
    )
    too_young = await published(
        client, partner, staff, org, eligibility={**MET_RULES, "min_years_in_business": 9}
    )
    await put_profile(client, entrepreneur)

    page = await recommended(client, entrepreneur)
    assert ids(page) == [fits["id"]]
    assert page["left_out"] == 2
    entry = page["items"][0]
    assert entry["eligible"] is True
    assert 0 < entry["score"] <= 1
    assert [r["criterion"] for r in entry["reasons"]] == CRITERIA
    why = reasons_of(page, fits["id"])
    assert {c: (r["verdict"], r["hard"]) for c, r in why.items()} == {
        "industries": ("match", True),
        "stage": ("match", True),
        "location": ("match", True),
        "target_communities": ("match", True),
        "years_in_business": ("match", True),
        "team_size": ("match", True),
        "revenue_band": ("match", True),
        "amount": ("match", False),
        "sdgs": ("match", False),
        "interests": ("match", False),
    }
    assert why["industries"]["message"] == (
        "Open to Agriculture & Food: your industry is Agriculture & Food"
    )
    assert why["location"]["message"] == "Open in Nairobi, where you are"
    assert why["stage"]["message"] == (
        "For businesses at the early-revenue or growth stage: yours is at the early-revenue stage"
    )
    assert why["amount"]["message"] == (
        "Offers USD 1,000–5,000, within what you look for (USD 5,000–20,000)"
    )
    assert page["has_profile"] is True
    assert page["missing_profile_fields"] == []
    assert page["hint"] is None

    everything = await recommended(client, entrepreneur, include_ineligible="true")
    assert everything["left_out"] == 0
    assert set(ids(everything)) == {fits["id"], wrong_country["id"], too_young["id"]}
    # nothing eligible at all: the hint says why the list is empty
    await client.post(f"{API}/opportunities/{fits['id']}/close", headers=partner.headers)
    empty = await recommended(client, entrepreneur)
    assert empty["items"] == []
    assert empty["hint"].startswith("Eligibility rules exclude you from the 2 open items")
    assert ids(everything)[0] == fits["id"]  # the ineligible ones come after
    by_id = {e["item"]["id"]: e for e in everything["items"]}
    assert by_id[wrong_country["id"]]["eligible"] is False
    assert reasons_of(everything, wrong_country["id"])["location"] == {
        "criterion": "location",
        "verdict": "mismatch",
        "hard": True,
        "message": "Only for Uganda; you are in Kenya",
    }
    assert reasons_of(everything, too_young["id"])["years_in_business"]["message"] == (
        f"Needs 9–10 years in business; you have {2026 - 2021}"
    )
    scores = [e["score"] for e in everything["items"]]
    assert scores == sorted(scores, reverse=True)


async def test_unknown_ranks_lower_but_is_never_hidden(client, partner, staff, entrepreneur):
    org = await make_org(client, partner)
    open_to_all = await published(client, partner, staff, org, title="Open grant one")
    asks_stage = await published(
        client, partner, staff, org, title="Open grant two", eligibility={"stages": ["growth"]}
    )
    asks_team = await published(
        client, partner, staff, org, title="Open grant six", eligibility={"min_team_size": 3}
    )
    await put_profile(client, entrepreneur, stage=None, team_size=None)

    page = await recommended(client, entrepreneur)
    assert set(ids(page)) == {open_to_all["id"], asks_stage["id"], asks_team["id"]}
    assert ids(page)[0] == open_to_all["id"]
    stage = reasons_of(page, asks_stage["id"])["stage"]
    assert (stage["verdict"], stage["hard"]) == ("unknown", True)
    assert stage["message"] == (
        "For businesses at the growth stage: add your stage to your profile"
    )
    team = reasons_of(page, asks_team["id"])["team_size"]
    assert team["message"] == "Needs at least 3 people: add your team size to your profile"
    assert all(e["eligible"] for e in page["items"])
    assert page["missing_profile_fields"] == ["stage", "team_size"]
    assert "stage, team_size" in page["hint"]


async def test_only_public_open_items_are_recommended(client, partner, staff, entrepreneur):
    org = await make_org(client, partner)
    public = await published(client, partner, staff, org)
    draft = await make_opportunity(client, partner, org["id"])
    closed = await published(client, partner, staff, org)
    cancelled = await published(client, partner, staff, org)
    archived = await published(client, partner, staff, org)
    await client.post(f"{API}/opportunities/{closed['id']}/close", headers=partner.headers)
    await client.post(
        f"{API}/opportunities/{cancelled['id']}/cancel",
        headers=partner.headers,
        json={"reason": "no funds"},
    )
    await client.delete(f"{API}/opportunities/{archived['id']}", headers=partner.headers)
    await put_profile(client, entrepreneur)
    everything = await recommended(client, entrepreneur, include_ineligible="true")
    assert ids(everything) == [public["id"]]
    assert draft["id"] not in str(everything)
    # the organisation's own members get nothing unpublished either
    await put_profile(client, partner)
    assert ids(await recommended(client, partner, include_ineligible="true")) == [public["id"]]


async def test_paging_is_exact_and_totals_count_what_is_listed(
    client, partner, staff, entrepreneur, make_user
) -> None:
    orgs = [await make_org(client, partner) for _ in range(3)]
    made = [
        await published(client, partner, staff, orgs[n % 3], title=f"Grant for farmers {n}")
        for n in range(8)
    ]
    await put_profile(client, entrepreneur)
    full = await recommended(client, entrepreneur, limit=100, include_total="true")
    assert full["total"] == 8
    assert set(ids(full)) == {m["id"] for m in made}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = await recommended(client, entrepreneur, **params)
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids(full)
    # diversity: the first three come from three organisations
    top = [e["item"]["organisation"]["id"] for e in full["items"][:3]]
    assert len(set(top)) == 3


async def test_without_a_profile_popular_and_recent_with_a_hint(
    client, partner, staff, entrepreneur, make_user
) -> None:
    org = await make_org(client, partner)
    quiet = await published(client, partner, staff, org, title="Quiet grant")
    popular = await published(client, partner, staff, org, title="Popular grant")
    for _ in range(3):
        fan = await make_user()
        saved = await client.put(f"{API}/opportunities/{popular['id']}/save", headers=fan.headers)
        assert saved.status_code == 200
    page = await recommended(client, entrepreneur)
    assert ids(page) == [popular["id"], quiet["id"]]
    assert page["has_profile"] is False
    assert page["hint"].startswith("Complete your profile")
    location = reasons_of(page, popular["id"])["location"]
    assert location["verdict"] == "match"  # the default item sets no location rule


async def test_bad_input_is_refused_in_the_error_shape(
    client, partner, staff, entrepreneur, make_user
) -> None:
    org = await make_org(client, partner)
    item = await published(client, partner, staff, org)
    draft = await make_opportunity(client, partner, org["id"])
    url = f"{API}/me/recommendations/opportunities"
    headers = entrepreneur.headers
    assert_error(await client.get(url), 401, "NOT_AUTHENTICATED")
    for params in ({"limit": 0}, {"limit": 101}, {"include_ineligible": "garbage"}, {"x": 1}):
        assert_error(await client.get(url, params=params, headers=headers), 422, "VALIDATION_ERROR")
    assert_error(
        await client.get(url, params={"cursor": "not-a-cursor"}, headers=headers),
        422,
        "INVALID_CURSOR",
    )
    similar = f"{API}/opportunities/{item['id']}/similar"
    assert_error(
        await client.get(similar, params={"cursor": "eyJzIjoicmVjb21tZW5kZWQifQ"}),
        422,
        "INVALID_CURSOR",
    )
    # a cursor of one list is not one of another
    await put_profile(client, entrepreneur)
    await published(client, partner, staff, org)
    first = await recommended(client, entrepreneur, limit=1)
    assert_error(
        await client.get(similar, params={"cursor": first["next_cursor"]}), 422, "INVALID_CURSOR"
    )
    # unknown profile fields, unknown and hidden items
    bad_profile = await client.put(
        f"{API}/profiles/me",
        headers=headers,
        json={"display_name": "A", "business_name": "B", "income": 5},
    )
    assert_error(bad_profile, 422, "VALIDATION_ERROR")
    for key in (draft["id"], draft["slug"], "0" * 24, "nope"):
        match = await client.get(f"{API}/opportunities/{key}/match", headers=headers)
        assert_error(match, 404, "OPPORTUNITY_NOT_FOUND")
        assert_error(
            await client.get(f"{API}/opportunities/{key}/similar"), 404, "OPPORTUNITY_NOT_FOUND"
        )
    assert_error(
        await client.get(f"{API}/opportunities/{item['id']}/match"), 401, "NOT_AUTHENTICATED"
    )
    # there is no way to ask for someone else's recommendations
    other = await make_user()
    assert (
        await client.get(f"{API}/users/{other.id}/recommendations", headers=headers)
    ).status_code == 404


async def test_funding_and_eligibility_ranges_are_validated(client, partner, entrepreneur):
    base = {"display_name": "A", "business_name": "B"}
    for funding in (
        {"amount_min": 10, "amount_max": 5, "currency": "USD"},
        {"amount_min": 10},
        {"currency": "USD"},
        {"amount_min": -1, "currency": "USD"},
        {"amount_min": 1, "currency": "XXQ"},
    ):
        response = await client.put(
            f"{API}/profiles/me", headers=entrepreneur.headers, json={**base, "funding": funding}
        )
        assert_error(response, 422, "VALIDATION_ERROR")
    org = await make_org(client, partner)
    for rules in (
        {"min_team_size": 10, "max_team_size": 2},
        {"min_years_in_business": 5, "max_years_in_business": 1},
        {"revenue_bands": ["lots"]},
    ):
        response = await client.post(
            f"{API}/opportunities",
            headers=partner.headers,
            json={
                "title": "Grant",
                "type": "grant",
                "organisation_id": org["id"],
                "eligibility": rules,
            },
        )
        assert_error(response, 422, "VALIDATION_ERROR")
    created = await client.put(
        f"{API}/profiles/me",
        headers=entrepreneur.headers,
        json={**base, "funding": {"amount_max": 900, "currency": "KES"}},
    )
    assert created.json()["funding"] == {"amount_min": None, "amount_max": 900, "currency": "KES"}
    cleared = await client.patch(
        f"{API}/profiles/me", headers=entrepreneur.headers, json={"funding": None}
    )
    assert cleared.json()["funding"] is None


async def test_an_organisation_rename_reaches_the_cards(client, partner, staff, entrepreneur):
    org = await make_org(client, partner, name="Old Name Fund")
    item = await published(client, partner, staff, org)
    await put_profile(client, entrepreneur)
    first = await recommended(client, entrepreneur)
    assert first["items"][0]["item"]["organisation"]["name"] == "Old Name Fund"
    renamed = await client.patch(
        f"{API}/organisations/{org['id']}", headers=partner.headers, json={"name": "New Name Fund"}
    )
    assert renamed.status_code == 200, renamed.text
    page = await recommended(client, entrepreneur)
    assert ids(page) == [item["id"]]
    assert page["items"][0]["item"]["organisation"]["name"] == "New Name Fund"
