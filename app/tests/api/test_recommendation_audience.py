"""An opportunity's audience: counts per criterion for its organisation and staff only,
k-anonymous (nothing below 5 shown, nor worked out by subtraction), demographics never
revealed."""

from __future__ import annotations

from app.services.recommendations.audience import suppress
from app.tests.api.recommendation_helpers import FULL_PROFILE, published
from app.tests.errors import assert_error
from app.tests.factories import API, add_member, make_opportunity, make_org


def test_suppression_hides_small_counts_and_what_would_reveal_them() -> None:
    assert suppress({"match": 50, "partial": 0, "unknown": 7, "mismatch": 9}) == {
        "match": 50,
        "partial": None,  # 0 < 5: hidden; the hidden cells add up to 0, nothing to protect
        "unknown": 7,
        "mismatch": 9,
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
        "match": 6,
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
    assert body["profiles"] == 14
    by = {c["criterion"]: c for c in body["criteria"]}
    assert by["location"] == {
        "criterion": "location",
        "rule": True,
        "match": 8,
        "partial": None,
        "unknown": None,  # 3
        "mismatch": None,  # 3
    }
    assert by["industries"]["match"] == 14
    assert by["stage"]["rule"] is False
    assert body["overall"] == {"match": 8, "unknown": None, "mismatch": None}
    assert "qzvsecretidentity" not in response.text
    assert "female" not in response.text
    for counts in [body["overall"], *body["criteria"]]:
        shown = [v for k, v in counts.items() if k not in ("criterion", "rule") and v is not None]
        assert all(v >= 5 for v in shown)
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
