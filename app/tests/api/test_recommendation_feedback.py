"""Feedback and freshness over HTTP: dismissals remove and teach, saves and RSVPs are
positive signals ("founders who saved X also saved Y"), and cached rankings are computed in
the worker and recomputed exactly when something that matters changed."""

from __future__ import annotations

import pytest

from app.models.recommendation import CatalogueGeneration, RecommendationCache
from app.services.recommendations import cache
from app.tests.api.recommendation_helpers import (
    ids,
    published,
    published_event,
    put_profile,
    reasons_of,
    recommended,
    settle,
)
from app.tests.factories import API, make_org


@pytest.fixture
def settings_overrides() -> dict:
    return {"recommendation_signals_seconds": 0}  # everyone's saves re-read on every ranking


def position(page: dict, item: dict) -> int:
    return ids(page).index(item["id"])


async def dismiss(client, user, item: dict, reason: str, kind: str = "opportunity") -> None:
    response = await client.put(
        f"{API}/me/dismissed/{kind}/{item['id']}", headers=user.headers, json={"reason": reason}
    )
    assert response.status_code == 200, response.text


async def test_dismissed_items_never_come_back(client, partner, staff, entrepreneur):
    org = await make_org(client, partner)
    items = [await published(client, partner, staff, org) for _ in range(3)]
    event = await published_event(client, partner, staff, org)
    await put_profile(client, entrepreneur)
    assert len(ids(await recommended(client, entrepreneur))) == 3
    await dismiss(client, entrepreneur, items[0], "not_relevant")
    await dismiss(client, entrepreneur, event, "other", kind="event")
    for params in ({}, {"include_ineligible": "true"}):
        assert items[0]["id"] not in ids(await recommended(client, entrepreneur, **params))
    assert ids(await recommended(client, entrepreneur, "events")) == []
    # taking the dismissal back brings it back
    await client.delete(
        f"{API}/me/dismissed/opportunity/{items[0]['id']}", headers=entrepreneur.headers
    )
    assert items[0]["id"] in ids(await recommended(client, entrepreneur))


async def test_not_relevant_teaches_what_is_alike(client, partner, staff, entrepreneur):
    common = {"industries": [], "tags": [], "sdgs": [], "summary": "", "description": ""}
    titles = [
        "Solar irrigation pumps for vegetable farms",
        "Solar irrigation kits for vegetable growers",
        "Market stalls for vegetable sellers",
    ]
    solar_one, solar_two, markets = [
        await published(client, partner, staff, await make_org(client, partner), title=t, **common)
        for t in titles
    ]  # one organisation each: diversity stays out of it
    await put_profile(client, entrepreneur, bio="Solar irrigation for vegetable farms and markets")
    before = await recommended(client, entrepreneur)
    assert position(before, solar_two) < position(before, markets)
    await dismiss(client, entrepreneur, solar_one, "not_relevant")
    after = await recommended(client, entrepreneur)
    assert solar_one["id"] not in ids(after)
    assert position(after, markets) < position(after, solar_two)


async def test_not_eligible_teaches_rules_like_those(client, partner, staff, entrepreneur):
    growth, revenue = {"stages": ["growth"]}, {"revenue_bands": ["over_1m"]}
    growth_one, growth_two, big_revenue = [
        await published(
            client, partner, staff, await make_org(client, partner), eligibility=rules, tags=tags
        )
        for rules, tags in ((growth, ["funding"]), (growth, ["funding"]), (revenue, ["export"]))
    ]
    await put_profile(client, entrepreneur, stage=None, revenue_band=None, interests=["funding"])
    before = await recommended(client, entrepreneur)
    assert position(before, growth_two) < position(before, big_revenue)  # an interest matches
    await dismiss(client, entrepreneur, growth_one, "not_eligible")
    after = await recommended(client, entrepreneur)
    assert position(after, big_revenue) < position(after, growth_two)
    stage = reasons_of(after, growth_two["id"])["stage"]
    assert stage["verdict"] == "unknown"  # still shown, with the reason: never hidden


async def test_founders_who_saved_this_also_saved(client, partner, staff, entrepreneur, make_user):
    org = await make_org(client, partner)
    x, y, z = [await published(client, partner, staff, org) for _ in range(3)]
    for _ in range(5):  # five founders saved both x and y (fewer would not count)
        fan = await make_user()
        for item in (x, y):
            await client.put(f"{API}/opportunities/{item['id']}/save", headers=fan.headers)
    for _ in range(5):  # z is as popular, but with nothing in common
        await client.put(f"{API}/opportunities/{z['id']}/save", headers=(await make_user()).headers)
    await put_profile(client, entrepreneur)
    await client.put(f"{API}/opportunities/{x['id']}/save", headers=entrepreneur.headers)
    page = await recommended(client, entrepreneur)
    assert x["id"] not in ids(page)  # already saved: not recommended again
    assert ids(page) == [y["id"], z["id"]]
    similar = await client.get(f"{API}/opportunities/{x['id']}/similar")
    first = similar.json()["items"][0]
    assert first["item"]["id"] == y["id"]
    assert "Founders who saved this also saved it" in first["because"]


async def test_one_founders_saves_are_not_told_by_similar_items(
    client, partner, staff, entrepreneur, make_user
):
    """Saves and applications are private: "founders who saved this also saved" needs
    several founders behind a pair, or it would tell what one founder saved or applied to."""
    orgs = [await make_org(client, partner) for _ in range(3)]  # no diversity penalty
    x, y, z = [await published(client, partner, staff, org) for org in orgs]
    target = await make_user()  # whoever knows the target saved x must not learn about z
    await client.put(f"{API}/opportunities/{x['id']}/save", headers=target.headers)
    applied = await client.put(
        f"{API}/opportunities/{z['id']}/application",
        headers=target.headers,
        json={"status": "applied"},
    )
    assert applied.status_code in (200, 201), applied.text
    for _ in range(3):  # three more founders behind the pair: still too few
        fan = await make_user()
        for item in (x, z):
            await client.put(f"{API}/opportunities/{item['id']}/save", headers=fan.headers)
    for _ in range(4):  # y is as popular as z
        await client.put(f"{API}/opportunities/{y['id']}/save", headers=(await make_user()).headers)
    similar = (await client.get(f"{API}/opportunities/{x['id']}/similar")).json()
    assert {e["item"]["id"] for e in similar["items"]} == {y["id"], z["id"]}
    for entry in similar["items"]:
        assert "Founders who saved this also saved it" not in entry["because"]
    # nor does a founder's own ranking lean on them (y and z differ only by that)
    await put_profile(client, entrepreneur)
    await client.put(f"{API}/opportunities/{x['id']}/save", headers=entrepreneur.headers)
    page = await recommended(client, entrepreneur)
    scores = {e["item"]["id"]: e["score"] for e in page["items"]}
    assert abs(scores[y["id"]] - scores[z["id"]]) < 0.05, scores


async def test_rsvps_are_positive_and_events_are_ranked_by_place(
    client, partner, staff, entrepreneur, make_user
) -> None:
    org = await make_org(client, partner)
    nairobi = await published_event(client, partner, staff, org, format="in_person")
    kampala = await published_event(
        client, partner, staff, org, format="in_person",
        venue={"name": "Hall", "city": "Kampala", "country": "UG"},
    )  # fmt: skip
    online = await published_event(
        client, partner, staff, org, format="online", venue=None, capacity=None
    )
    await put_profile(client, entrepreneur)
    page = await recommended(client, entrepreneur, "events")
    assert position(page, nairobi) < position(page, kampala)
    assert reasons_of(page, kampala["id"])["location"] == {
        "criterion": "location",
        "verdict": "mismatch",
        "hard": False,
        "message": "In Kampala, Uganda; you are in Kenya",
    }
    assert reasons_of(page, online["id"])["location"]["message"] == "Online: join from anywhere"
    assert all(e["eligible"] for e in page["items"])  # events set no eligibility rules
    assert [r["criterion"] for r in page["items"][0]["reasons"]] == [
        "industries",
        "location",
        "target_communities",
        "sdgs",
        "interests",
    ]
    rsvp = await client.put(
        f"{API}/events/{online['id']}/rsvp", headers=entrepreneur.headers, json={}
    )
    assert rsvp.status_code in (200, 201), rsvp.text
    assert online["id"] not in ids(await recommended(client, entrepreneur, "events"))


async def test_rankings_are_computed_in_the_worker_and_kept_while_valid(
    app, client, partner, staff, entrepreneur
) -> None:
    org = await make_org(client, partner)
    farm = await published(client, partner, staff, org, title="Grant for vegetable farms")
    tech = await published(client, partner, staff, org, title="Grant for software makers")
    await put_profile(client, entrepreneur, bio="vegetable farms")
    await settle(app)  # the profile change was ranked by the worker
    cached = await RecommendationCache.find_one(
        {"user_id": entrepreneur.user.id, "kind": "opportunity"}
    )
    assert cached is not None
    assert str(cache.unpack(cached.ranking)[0].item_id) == farm["id"]
    first = await recommended(client, entrepreneur)
    assert first["computed_at"] == cached.computed_at.isoformat().replace("+00:00", "Z")

    # a change that does not matter to matching keeps the ranking
    await client.patch(
        f"{API}/profiles/me", headers=entrepreneur.headers, json={"website": "https://x.example"}
    )
    await settle(app)
    assert (await recommended(client, entrepreneur))["computed_at"] == first["computed_at"]

    # one that matters: re-ranked (by the worker already)
    await client.patch(
        f"{API}/profiles/me", headers=entrepreneur.headers, json={"bio": "software makers"}
    )
    await settle(app)
    second = await recommended(client, entrepreneur)
    assert second["computed_at"] > first["computed_at"]
    assert ids(second)[0] == tech["id"]

    # an item change: the catalogue's generation moves, cached rankings are stale
    generation = await CatalogueGeneration.find_one({"_id": "opportunity"})
    edited = await client.patch(
        f"{API}/opportunities/{farm['id']}",
        headers=staff.headers,
        json={"title": "Grant for software makers and farms"},
    )
    assert edited.status_code == 200, edited.text
    moved = await CatalogueGeneration.find_one({"_id": "opportunity"})
    assert moved.generation == generation.generation + 1
    await settle(app)  # the worker re-ranked the active user
    third = await recommended(client, entrepreneur)
    assert third["computed_at"] > second["computed_at"]
    titles = {e["item"]["id"]: e["item"]["title"] for e in third["items"]}
    assert titles[farm["id"]] == "Grant for software makers and farms"

    # closing an item takes it out at once
    await client.post(f"{API}/opportunities/{tech['id']}/close", headers=partner.headers)
    assert ids(await recommended(client, entrepreneur)) == [farm["id"]]
    # a save by someone else does not make the cached ranking stale
    await settle(app)
    before = (await recommended(client, entrepreneur))["computed_at"]
    assert (await recommended(client, entrepreneur))["computed_at"] == before


async def test_match_for_one_item(client, partner, staff, entrepreneur):
    org = await make_org(client, partner)
    item = await published(
        client, partner, staff, org, eligibility={"countries": ["KE", "TZ"], "stages": ["idea"]}
    )
    response = await client.get(
        f"{API}/opportunities/{item['slug']}/match", headers=entrepreneur.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["has_profile"] is False
    assert body["eligible"] is True  # nothing known excludes: unknowns, not mismatches
    assert {r["criterion"]: r["verdict"] for r in body["reasons"]}["location"] == "unknown"
    await put_profile(client, entrepreneur)
    body = (
        await client.get(f"{API}/opportunities/{item['id']}/match", headers=entrepreneur.headers)
    ).json()
    assert body["eligible"] is False
    why = {r["criterion"]: r for r in body["reasons"]}
    assert why["location"]["message"] == "Open in Kenya and Tanzania, where you are"
    assert why["stage"]["verdict"] == "mismatch"
    assert 0 <= body["fit"] <= 1
    # the organisation can check a draft the same way
    draft = await client.post(
        f"{API}/opportunities",
        headers=partner.headers,
        json={"title": "Draft grant", "type": "grant", "organisation_id": org["id"]},
    )
    await put_profile(client, partner)
    mine = await client.get(
        f"{API}/opportunities/{draft.json()['id']}/match", headers=partner.headers
    )
    assert mine.status_code == 200
    assert mine.json()["eligible"] is True


async def test_similar_items_are_public_and_alike(client, partner, staff, entrepreneur):
    org = await make_org(client, partner)
    source = await published(
        client, partner, staff, org, title="Solar pumps for irrigation", industries=["clean-energy"]
    )
    alike = await published(
        client, partner, staff, org, title="Solar pumps for farms", industries=["clean-energy"]
    )
    other = await published(
        client, partner, staff, org, title="Bakery ovens", industries=["manufacturing"], tags=[]
    )
    hidden = await client.post(
        f"{API}/opportunities",
        headers=partner.headers,
        json={
            "title": "Solar pumps for irrigation too",
            "type": "grant",
            "organisation_id": org["id"],
        },
    )
    response = await client.get(f"{API}/opportunities/{source['id']}/similar")
    assert response.status_code == 200, response.text
    found = ids(response.json())
    assert found[0] == alike["id"]
    assert source["id"] not in found
    assert hidden.json()["id"] not in found
    assert set(found) == {alike["id"], other["id"]}
    # signed in, what you dismissed is left out
    await dismiss(client, entrepreneur, alike, "not_relevant")
    mine = await client.get(
        f"{API}/opportunities/{source['id']}/similar", headers=entrepreneur.headers
    )
    assert ids(mine.json()) == [other["id"]]
    # paged with a cursor
    first = (await client.get(f"{API}/opportunities/{source['id']}/similar?limit=1")).json()
    rest = (
        await client.get(
            f"{API}/opportunities/{source['id']}/similar",
            params={"limit": 1, "cursor": first["next_cursor"]},
        )
    ).json()
    assert ids(first) + ids(rest) == found
    events = [await published_event(client, partner, staff, org) for _ in range(2)]
    similar_events = await client.get(f"{API}/events/{events[0]['slug']}/similar")
    assert ids(similar_events.json()) == [events[1]["id"]]
    assert "online_url" not in similar_events.text
