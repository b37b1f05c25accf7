"""The engine's parts that are awkward over HTTP: time passing (deadlines, registration),
writes no signal announced, the diversity re-ranking's order, and the busy pool."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from beanie import PydanticObjectId

from app.core.cpu_pool import CpuPool
from app.models.opportunity import Opportunity
from app.services.recommendations import index, ranking, service
from app.services.recommendations.criteria import Names
from app.services.recommendations.engine import RecommendationsBusy
from app.services.recommendations.facts import ItemFacts
from app.services.recommendations.index import assemble
from app.tests.api.recommendation_helpers import published, published_event, put_profile
from app.tests.errors import assert_error
from app.tests.factories import API, make_org


async def test_items_leave_when_their_deadline_or_registration_passes(
    app, client, partner, staff, entrepreneur
) -> None:
    org = await make_org(client, partner)
    soon = await published(client, partner, staff, org, deadline="2031-01-01T00:00:00Z")
    later = await published(client, partner, staff, org, deadline="2032-01-01T00:00:00Z")
    event = await published_event(
        client, partner, staff, org, registration_deadline="2031-01-01T00:00:00Z"
    )
    await put_profile(client, entrepreneur)
    engine = app.state.recommender
    user = entrepreneur.user.id
    now = datetime(2030, 6, 1, tzinfo=UTC)
    ranked = await service.ranking_for(engine, user, "opportunity", now=now)
    assert {str(e.item_id) for e in ranked.entries} == {soon["id"], later["id"]}
    assert ranked.snapshot.live(PydanticObjectId(event["id"]), now) is None  # another kind
    # no change happened, time did: nothing to invalidate, the row carries its closing time
    after = datetime(2031, 6, 1, tzinfo=UTC)
    ranked = await service.ranking_for(engine, user, "opportunity", now=after)
    assert {str(e.item_id) for e in ranked.entries} == {later["id"]}
    events = await service.ranking_for(engine, user, "event", now=now)
    assert [str(e.item_id) for e in events.entries] == [event["id"]]
    events = await service.ranking_for(engine, user, "event", now=after)
    assert events.entries == []


@pytest.fixture
def settings_overrides() -> dict:
    return {"recommendation_index_refresh_seconds": 0}


async def test_writes_no_signal_announced_are_read_at_the_next_refresh(
    app, client, partner, staff, entrepreneur
) -> None:
    org = await make_org(client, partner)
    item = await published(client, partner, staff, org, title="Original title")
    engine = app.state.recommender
    snap = await engine.indexes["opportunity"].current(await index.generation("opportunity"))
    assert snap.live(PydanticObjectId(item["id"]), datetime.now(UTC)).title == "Original title"
    # another process (or a script) changed it behind our back, without a signal
    await Opportunity.get_motor_collection().update_one(
        {"_id": PydanticObjectId(item["id"])},
        {
            "$set": {"title": "Changed elsewhere", "updated_at": datetime.now(UTC)},
            "$inc": {"version": 1},
        },
    )
    snap = await engine.indexes["opportunity"].current(await index.generation("opportunity"))
    assert snap.live(PydanticObjectId(item["id"]), datetime.now(UTC)).title == "Changed elsewhere"
    # and a status change the same way takes it out
    await Opportunity.get_motor_collection().update_one(
        {"_id": PydanticObjectId(item["id"])},
        {"$set": {"status": "closed", "updated_at": datetime.now(UTC)}, "$inc": {"version": 1}},
    )
    snap = await engine.indexes["opportunity"].current(await index.generation("opportunity"))
    assert snap.live(PydanticObjectId(item["id"]), datetime.now(UTC)) is None
    listed = await client.get(
        f"{API}/me/recommendations/opportunities", headers=entrepreneur.headers
    )
    assert listed.json()["items"] == []


def _facts(n: int, org: PydanticObjectId) -> ItemFacts:
    return ItemFacts(
        id=PydanticObjectId(),
        kind="opportunity",
        slug=f"item-{n}",
        title=f"Item {n}",
        type="grant",
        organisation_id=org,
        organisation_name="Org",
        organisation_slug="org",
        published_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_diversity_spreads_organisations_and_scores_never_increase() -> None:
    import numpy as np
    import scipy.sparse as sp

    big, small = PydanticObjectId(), PydanticObjectId()
    facts = [_facts(n, big) for n in range(6)] + [_facts(6, small), _facts(7, small)]
    snap = assemble(
        "opportunity",
        facts,
        sp.csr_matrix((8, 1)),
        None,
        Names({}),
        (1, datetime.now(UTC)),
    )
    scores = np.array([0.9, 0.89, 0.88, 0.87, 0.86, 0.85, 0.8, 0.79])
    eligible = np.ones(8, bool)
    picked = ranking.diversify(snap, np.arange(8), scores, eligible, 0.06)
    shown = [s for _, s in picked]
    assert shown == sorted(shown, reverse=True)
    orgs = [snap.facts[r].organisation_id for r, _ in picked]
    # by score alone the smaller publisher would come 7th and 8th
    assert orgs[:4] == [big, big, small, big]
    entries = ranking.cached(snap, picked, eligible)
    assert [e.score for e in entries] == sorted((e.score for e in entries), reverse=True)


async def test_a_full_scoring_pool_answers_503_with_retry_after(
    app, client, partner, staff, entrepreneur
) -> None:
    org = await make_org(client, partner)
    await published(client, partner, staff, org)
    await put_profile(client, entrepreneur)
    engine = app.state.recommender
    usual = engine.pool
    engine.pool = CpuPool(workers=1, queue=0, wait_seconds=0.1, busy=RecommendationsBusy)
    release = threading.Event()
    blocker = asyncio.create_task(engine.pool.run(release.wait))
    await asyncio.sleep(0.05)
    try:
        await client.patch(
            f"{API}/profiles/me", headers=entrepreneur.headers, json={"bio": "new words"}
        )
        response = await client.get(
            f"{API}/me/recommendations/opportunities", headers=entrepreneur.headers
        )
        assert_error(response, 503, "RECOMMENDATIONS_BUSY")
        assert int(response.headers["Retry-After"]) >= 1
    finally:
        release.set()
        await blocker
        await engine.pool.close()
        engine.pool = usual
