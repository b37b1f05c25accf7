"""An opportunity's audience: counts per criterion for its organisation and staff only,
k-anonymous (nothing below 5 shown, nor worked out by subtraction), demographics never
revealed."""

from __future__ import annotations

from app.services.recommendations.audience import suppress
from app.tests.api.recommendation_helpers import FULL_PROFILE, published
from app.tests.errors import assert_error
from app.tests.factories import API, add_member, make_opportunity, make_org


async def founders(client, make_user, *profiles: dict) -> None:
    for fields in profiles:
        founder = await make_user()
        body = {**FULL_PROFILE, "region": None, **fields}
        response = await client.put(f"{API}/profiles/me", headers=founder.headers, json=body)
        assert response.status_code == 201, response.text


def test_suppression_hides_small_counts_and_what_would_reveal_them() -> None:
    assert suppress({"match": 50, "partial": 0, "unknown": 7, "mismatch": 9}) == {
        "match": 50,
        "partial": None,  # 0 < 5: hidden; the hidden cells add up to 0, nothing to protect
        "unknown": 5,  # 7 and 9: shown rounded down to a multiple of 5
        "mismatch": 5,
    }
    # 2 is hidden; on its own it could be worked out from the total: hide the next smallest
    assert suppress({"match": 50, "partial": 0, "unknown": 2, "mismatch": 40}) == {
        "match": 50,
        "partial": None,
        "unknown": None,
        "mismatch": None,
    }
    assert suppress({"match": 3, "unknown": 1, "mismatch": 0}) == {
        "match": None,
        "unknown": None,
        "mismatch": None,
    }
    assert suppress({"match": 6, "unknown": 3, "mismatch": 4}) == {
        "match": 5,
        "unknown": None,
        "mismatch": None,
    }


async def test_counts_per_criterion_are_k_anonymous(
    client, partner, staff, make_user, entrepreneur
) -> None:
    # 14 founders: 8 in Kenya, 3 in Uganda, 3 who do not say
    for n in range(14):
        founder = await make_user()
        country = "KE" if n < 8 else ("UG" if n < 11 else None)
        body = {
            **FULL_PROFILE,
            "country": country,
            "region": None,
            "visibility": "private" if n % 2 else "public",
            "demographics": {"gender": "female", "founder_identities": ["qzvsecretidentity"]},
        }
        response = await client.put(f"{API}/profiles/me", headers=founder.headers, json=body)
        assert response.status_code == 201, response.text
    org = await make_org(client, partner)
    item = await published(
        client, partner, staff, org,
        eligibility={"countries": ["KE"], "industries": ["agriculture-food"]},
    )  # fmt: skip
    url = f"{API}/opportunities/{item['id']}/audience"
    response = await client.get(url, headers=partner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["k_anonymity"] == 5
    assert body["profiles"] == 10  # 14, rounded down
    by = {c["criterion"]: c for c in body["criteria"]}
    assert by["location"] == {
        "criterion": "location",
        "rule": True,
        "match": 5,  # 8
        "partial": None,
        "unknown": None,  # 3
        "mismatch": None,  # 3
    }
    assert by["industries"]["match"] == 10
    assert by["stage"]["rule"] is False
    assert body["overall"] == {"match": 5, "unknown": None, "mismatch": None}
    assert "qzvsecretidentity" not in response.text
    assert "female" not in response.text
    for counts in [body["overall"], *body["criteria"]]:
        shown = [v for k, v in counts.items() if k not in ("criterion", "rule") and v is not None]
        assert all(v >= 5 and v % 5 == 0 for v in shown)
    # staff may look too; others may not
    assert (await client.get(url, headers=staff.headers)).status_code == 200
    assert_error(
        await client.get(url, headers=entrepreneur.headers), 403, "NOT_ORGANISATION_MEMBER"
    )
    stranger = await make_user(role="partner")
    assert_error(await client.get(url, headers=stranger.headers), 403, "NOT_ORGANISATION_MEMBER")
    assert_error(await client.get(url), 401, "NOT_AUTHENTICATED")


async def test_a_draft_can_be_checked_by_its_organisation_only(client, partner, make_user) -> None:
    org = await make_org(client, partner)
    editor = await make_user(role="partner")
    await add_member(client, partner, org["id"], editor)
    draft = await make_opportunity(client, partner, org["id"], eligibility={"stages": ["idea"]})
    url = f"{API}/opportunities/{draft['id']}/audience"
    mine = await client.get(url, headers=editor.headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["profiles"] is None  # fewer than 5 founders: not even the total
    stranger = await make_user(role="partner")
    assert_error(await client.get(url, headers=stranger.headers), 404, "OPPORTUNITY_NOT_FOUND")
    assert_error(
        await client.get(f"{API}/opportunities/{'0' * 24}/audience", headers=partner.headers),
        404,
        "OPPORTUNITY_NOT_FOUND",
    )


async def test_no_small_count_follows_from_other_rows_or_a_rule_edit(
    client, partner, make_user
) -> None:
    # 10 in Kenya (5 without a stage), 5 in Uganda, 1 in Rwanda, 1 who gives no country
    await founders(
        client,
        make_user,
        *[{"country": "KE", "stage": "early_revenue" if n < 5 else None} for n in range(10)],
        *[{"country": "UG"} for _ in range(5)],
        {"country": "RW"},
        {"country": None},
    )
    org = await make_org(client, partner)
    rules = {"countries": ["KE"], "stages": ["early_revenue", "growth"]}
    draft = await make_opportunity(client, partner, org["id"], eligibility=rules)
    url = f"{API}/opportunities/{draft['id']}/audience"
    body = (await client.get(url, headers=partner.headers)).json()
    by = {c["criterion"]: c for c in body["criteria"]}
    # Exact counts would give away the one founder without a country: nobody fails the stage
    # rule (its hidden cells add up to 17 - 12 - 5 = 0), so the 6 overall mismatches are the
    # location's, and 17 - 10 - 6 = 1 is its hidden unknown.
    assert body["profiles"] == 15  # 17
    assert by["location"]["match"] == 10
    assert (by["stage"]["match"], by["stage"]["unknown"]) == (10, 5)  # 12, 5
    assert body["overall"] == {"match": 5, "unknown": 5, "mismatch": 5}  # 5, 6, 6
    # a draft's rules change freely: taking in Rwanda too does not show its one founder
    changed = await client.patch(
        f"{API}/opportunities/{draft['id']}",
        headers=partner.headers,
        json={"eligibility": {**rules, "countries": ["KE", "RW"]}},
    )
    assert changed.status_code == 200, changed.text
    after = (await client.get(url, headers=partner.headers)).json()
    assert {c["criterion"]: c for c in after["criteria"]}["location"]["match"] == 10  # 11
    assert after["overall"] == body["overall"]  # 6, 5, 6 exactly
