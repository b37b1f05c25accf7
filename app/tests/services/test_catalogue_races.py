"""The race-compensation branches, reached by injecting the losing side of the race.

Where two steps cannot be one write (claim a seat, then record the RSVP; create the
interaction row, then flip it; insert with a generated slug), the code undoes or absorbs
what the lost race left behind. Over HTTP those branches need two requests to interleave
just so; here the database answers as it would for the loser.
"""

from __future__ import annotations

from typing import Any

import pytest
from beanie import PydanticObjectId
from httpx import AsyncClient
from pymongo.errors import DuplicateKeyError

from app.core.config import Settings
from app.core.exceptions import Conflict
from app.models.event import Event
from app.models.interaction import OpportunityInteraction, Rsvp, RsvpStatus
from app.models.opportunity import Opportunity
from app.services import auth
from app.services.catalogue import Viewer, viewer
from app.services.catalogue.edit import insert_with_slug
from app.services.events import rsvps
from app.services.opportunities import KIND as OPPORTUNITY_KIND
from app.services.opportunities import interactions
from app.tests.factories import UserWithToken, make_event, make_opportunity, make_org


async def who(settings: Settings, user: UserWithToken) -> Viewer:
    return await viewer(await auth.authenticate(settings, user.access_token))


async def counters(event_id: str) -> tuple[int, int, int]:
    event = await Event.get(PydanticObjectId(event_id))
    assert event is not None
    return event.going_count, event.waitlist_count, event.interested_count


# --- slugs ------------------------------------------------------------------------------------


async def _draft(client: AsyncClient, partner: UserWithToken) -> Opportunity:
    org = await make_org(client, partner)
    made = await make_opportunity(client, partner, org["id"], title="Seed Grant")
    found = await Opportunity.get(PydanticObjectId(made["id"]))
    assert found is not None
    return found


def _copy(item: Opportunity, slug: str) -> Opportunity:
    return item.model_copy(update={"id": None, "revision_id": None, "slug": slug})


async def test_generated_slug_taken_gets_a_suffix(client: AsyncClient, partner) -> None:
    first = await _draft(client, partner)
    second = _copy(first, first.slug)
    await insert_with_slug(OPPORTUNITY_KIND, second, explicit=False)
    assert second.slug == f"{first.slug}-2"
    third = _copy(first, first.slug)
    await insert_with_slug(OPPORTUNITY_KIND, third, explicit=False)
    assert third.slug == f"{first.slug}-3"


async def test_explicit_slug_taken_is_a_conflict(client: AsyncClient, partner) -> None:
    first = await _draft(client, partner)
    with pytest.raises(Conflict) as exc:
        await insert_with_slug(OPPORTUNITY_KIND, _copy(first, first.slug), explicit=True)
    assert exc.value.code == "SLUG_TAKEN"


async def test_slug_races_fall_back_to_random_then_give_up(
    client: AsyncClient, partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Racing creators may take every numbered suffix first: after three, a random one;
    after six lost races, a 409 asking for an explicit slug (nothing half-inserted)."""
    first = await _draft(client, partner)
    real_insert = Opportunity.insert
    tried: list[str] = []

    def losing(times: int) -> Any:
        async def insert(self: Opportunity, **kwargs: Any) -> Opportunity:
            tried.append(self.slug)
            if len(tried) <= times:
                raise DuplicateKeyError("E11000 duplicate key error (injected)")
            return await real_insert(self, **kwargs)

        return insert

    monkeypatch.setattr(Opportunity, "insert", losing(4))
    item = _copy(first, "seed-grant-x")
    await insert_with_slug(OPPORTUNITY_KIND, item, explicit=False)
    assert tried[:4] == ["seed-grant-x", "seed-grant-x-2", "seed-grant-x-3", "seed-grant-x-4"]
    assert item.slug == tried[4]
    assert len(item.slug) == len("seed-grant-x-") + 6
    assert await Opportunity.find_one({"slug": item.slug}) is not None

    tried.clear()
    monkeypatch.setattr(Opportunity, "insert", losing(99))
    before = await Opportunity.find_all().count()
    with pytest.raises(Conflict) as exc:
        await insert_with_slug(OPPORTUNITY_KIND, _copy(first, "other"), explicit=False)
    assert exc.value.code == "SLUG_TAKEN"
    assert len(tried) == 6
    assert await Opportunity.find_all().count() == before


# --- RSVPs ------------------------------------------------------------------------------------


def first_read_sees_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next `Rsvp.find_one` answers None, as it did for a request that read before
    the other one wrote; later reads see the database."""
    real_find_one = Rsvp.find_one
    pending = [True]

    def find_one(*args: Any, **kwargs: Any) -> Any:
        if pending:
            pending.clear()

            async def nothing() -> None:
                return None

            return nothing()
        return real_find_one(*args, **kwargs)

    monkeypatch.setattr(Rsvp, "find_one", find_one)


async def _event(client, partner, staff, **fields: Any) -> dict[str, Any]:
    org = await make_org(client, partner)
    return await make_event(client, partner, org["id"], publish_as=staff, **fields)


async def test_rsvp_self_race_undoes_the_second_seat(
    client: AsyncClient, settings, partner, staff, entrepreneur, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same user RSVPs twice at once: both see no RSVP, both claim a seat, one insert
    wins. The loser gives its seat back and answers with the winner's RSVP."""
    event = await _event(client, partner, staff, capacity=10)
    me = await who(settings, entrepreneur)
    await rsvps.rsvp(me, event["id"], RsvpStatus.going)  # the winner
    assert await counters(event["id"]) == (1, 0, 0)

    first_read_sees_nothing(monkeypatch)  # the loser read before the winner wrote
    again = await rsvps.rsvp(me, event["id"], RsvpStatus.going)
    assert again.status is RsvpStatus.going
    assert await counters(event["id"]) == (1, 0, 0)  # the second seat was given back
    assert await Rsvp.find({"event_id": PydanticObjectId(event["id"])}).count() == 1


async def test_rsvp_self_race_to_interested_is_a_change(
    client: AsyncClient, settings, partner, staff, entrepreneur, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loser wanted `interested` while the winner took a seat: its interest counter is
    undone, then it is applied as a change (the seat is released)."""
    event = await _event(client, partner, staff)
    me = await who(settings, entrepreneur)
    await rsvps.rsvp(me, event["id"], RsvpStatus.going)
    first_read_sees_nothing(monkeypatch)
    changed = await rsvps.rsvp(me, event["id"], RsvpStatus.interested)
    assert changed.status is RsvpStatus.interested
    assert await counters(event["id"]) == (0, 0, 1)


async def test_rsvp_changed_meanwhile_gives_back_what_it_took(
    client: AsyncClient, settings, partner, staff, entrepreneur
) -> None:
    """A change conditional on the status read: when another request changed it first,
    the seat just claimed is released and the caller is told to retry."""
    event = await _event(client, partner, staff, capacity=5)
    me = await who(settings, entrepreneur)
    interested = await rsvps.rsvp(me, event["id"], RsvpStatus.interested)
    await Rsvp.get_motor_collection().update_one(
        {"_id": interested.id}, {"$set": {"status": RsvpStatus.waitlisted.value}}
    )  # someone else's change, after we read `interested`
    loaded = await Event.get(PydanticObjectId(event["id"]))
    assert loaded is not None
    before = await counters(event["id"])
    with pytest.raises(Conflict) as exc:
        await rsvps._change(loaded, interested, RsvpStatus.going)
    assert exc.value.code == "CONCURRENT_CHANGE"
    assert await counters(event["id"]) == before


# --- interaction rows -------------------------------------------------------------------------


async def test_interaction_upsert_race_is_absorbed(
    client: AsyncClient, settings, partner, staff, entrepreneur, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first saves at once: both upsert the (user, opportunity) row, the loser gets a
    duplicate key. The row is there, so the save goes on and counts once."""
    org = await make_org(client, partner)
    item = await make_opportunity(client, partner, org["id"], publish_as=staff)
    me = await who(settings, entrepreneur)
    collection = OpportunityInteraction.get_motor_collection()
    real_update_one = collection.update_one

    async def update_one(filter: Any, update: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("upsert"):  # the winner's insert lands, then ours fails on the key
            await real_update_one(filter, update, *args, **kwargs)
            raise DuplicateKeyError("E11000 duplicate key error (injected)")
        return await real_update_one(filter, update, *args, **kwargs)

    monkeypatch.setattr(collection, "update_one", update_one)
    row = await interactions.set_saved(me, item["id"], True)
    assert row.saved is True
    assert await collection.count_documents({}) == 1
    saved = await Opportunity.get(PydanticObjectId(item["id"]))
    assert saved is not None
    assert saved.saves == 1
