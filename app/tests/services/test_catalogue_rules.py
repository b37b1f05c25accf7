"""The kinds' rule functions and derived fields, called directly (table-driven).

One rule function per kind judges the state after a change, for create (`current` is None)
and update alike; these tables cover both, including the update-only branches (implied
changes, capacity against the people going). Rule functions never change their inputs.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime
from typing import Any, get_args

import pytest
from beanie import PydanticObjectId

from app.core.exceptions import ValidationFailed
from app.models.event import Event, EventFormat, Venue
from app.models.opportunity import ROLLING_SORT_DATE, Opportunity
from app.models.organisation import Organisation
from app.schemas.event import EventFacet, EventSort
from app.schemas.opportunity import OpportunityFacet, OpportunitySort
from app.services.catalogue import derive
from app.services.events.kind import KIND as EVENT_KIND
from app.services.events.kind import rules as event_rules
from app.services.opportunities.kind import KIND as OPPORTUNITY_KIND
from app.services.opportunities.kind import effective_status
from app.services.opportunities.kind import rules as opportunity_rules

# Documents can be built only once Beanie knows them: every test runs inside an app.
pytestmark = pytest.mark.usefixtures("app")

ORG = PydanticObjectId()
USER = PydanticObjectId()
JUNE = datetime(2099, 6, 1, 9, tzinfo=UTC)
JULY = datetime(2099, 7, 1, 9, tzinfo=UTC)


def opportunity(**fields: Any) -> Opportunity:
    base: dict[str, Any] = {
        "title": "Seed Grant",
        "slug": "seed-grant",
        "type": "grant",
        "organisation_id": ORG,
        "organisation_name": "Fund",
        "organisation_slug": "fund",
        "created_by": USER,
    }
    return Opportunity(**{**base, **fields})


def event(**fields: Any) -> Event:
    base: dict[str, Any] = {
        "title": "Founders Mixer",
        "slug": "founders-mixer",
        "type": "networking",
        "organisation_id": ORG,
        "organisation_name": "Hub",
        "organisation_slug": "hub",
        "created_by": USER,
        "start_at": JUNE,
        "end_at": JUNE.replace(hour=11),
        "timezone": "Africa/Nairobi",
        "format": EventFormat.online,
    }
    return Event(**{**base, **fields})


def create_body(item: Opportunity | Event, **changes: Any) -> dict[str, Any]:
    """What a create body's dump looks like: every field, nothing derived."""
    return {**item.model_dump(exclude={"id", "revision_id"}), **changes}


def problems(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [d["msg"] for d in exc.value.details]


# --- opportunities ----------------------------------------------------------------------------

OPPORTUNITY_CASES: list[tuple[str, dict[str, Any] | None, dict[str, Any], Any]] = [
    # (case, current item fields (None: create), changes, implied changes or [problems])
    ("create, no money", None, {}, {}),
    ("create, amounts with currency", None, {"amount_min": 1, "amount_max": 2, "currency": "KES"}, {}),
    ("create, amount without currency", None, {"amount_max": 5},
     ["currency is required when an amount is given"]),
    ("create, min above max", None, {"amount_min": 9, "amount_max": 2, "currency": "KES"},
     ["amount_min must not exceed amount_max"]),
    ("create, both money problems", None, {"amount_min": 9, "amount_max": 2},
     ["currency is required when an amount is given", "amount_min must not exceed amount_max"]),
    ("create, rolling with a deadline", None, {"rolling": True, "deadline": JUNE},
     ["a rolling opportunity has no deadline"]),
    ("update, amount on an item with a currency", {"currency": "KES"}, {"amount_max": 5}, {}),
    ("update, clearing the currency under an amount", {"amount_max": 5, "currency": "KES"},
     {"currency": None}, ["currency is required when an amount is given"]),
    ("update, min above the stored max", {"amount_max": 5, "currency": "KES"},
     {"amount_min": 6}, ["amount_min must not exceed amount_max"]),
    ("update, switch to rolling drops the deadline", {"deadline": JUNE}, {"rolling": True},
     {"deadline": None}),
    ("update, a deadline ends rolling", {"rolling": True}, {"deadline": JULY},
     {"rolling": False}),
    ("update, both at once", {}, {"rolling": True, "deadline": JULY},
     ["a rolling opportunity has no deadline"]),
    ("update, cosmetic change to a valid item", {"deadline": JUNE}, {"title": "New title"}, {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("current", "changes", "expected"),
    [case[1:] for case in OPPORTUNITY_CASES],
    ids=[case[0] for case in OPPORTUNITY_CASES],
)
async def test_opportunity_rules(current, changes, expected) -> None:
    item = opportunity(**current) if current is not None else None
    body = create_body(opportunity(), **changes) if current is None else dict(changes)
    before_body, before_item = deepcopy(body), item.model_dump() if item else None
    if isinstance(expected, list):
        with pytest.raises(ValidationFailed) as exc:
            opportunity_rules(item, body)
        assert problems(exc) == expected
        assert exc.value.message == "; ".join(expected)
    else:
        assert opportunity_rules(item, body) == expected
    assert body == before_body  # never changes its inputs
    assert (item.model_dump() if item else None) == before_item


# --- events -----------------------------------------------------------------------------------

VENUE = {"name": "Hall", "city": "Nairobi", "country": "KE"}
EVENT_CASES: list[tuple[str, dict[str, Any] | None, dict[str, Any], list[str]]] = [
    ("create, online", None, {}, []),
    ("create, ends before it starts", None, {"end_at": JUNE.replace(hour=8)},
     ["end_at must be after start_at"]),
    ("create, ends when it starts", None, {"end_at": JUNE}, ["end_at must be after start_at"]),
    ("create, registration after the end", None, {"registration_deadline": JULY},
     ["registration_deadline must not be after end_at"]),
    ("create, paid without currency", None, {"price": 500}, ["currency is required for a paid event"]),
    ("create, paid with currency", None, {"price": 500, "currency": "KES"}, []),
    ("create, in person without venue", None, {"format": EventFormat.in_person},
     ["an in-person or hybrid event needs a venue"]),
    ("create, hybrid with venue", None, {"format": EventFormat.hybrid, "venue": VENUE}, []),
    ("create, every problem", None,
     {"end_at": JUNE, "price": 1, "format": EventFormat.hybrid},
     ["end_at must be after start_at", "currency is required for a paid event",
      "an in-person or hybrid event needs a venue"]),
    ("update, moving the start past the end", {}, {"start_at": JULY},
     ["end_at must be after start_at"]),
    ("update, going in person without a venue", {}, {"format": EventFormat.in_person},
     ["an in-person or hybrid event needs a venue"]),
    ("update, dropping the venue of an in-person event",
     {"format": EventFormat.in_person, "venue": Venue(**VENUE)}, {"venue": None},
     ["an in-person or hybrid event needs a venue"]),
    ("update, capacity below the people going", {"going_count": 5}, {"capacity": 4},
     ["capacity cannot drop below the 5 people going"]),
    ("update, capacity equal to the people going", {"going_count": 5}, {"capacity": 5}, []),
    ("update, capacity removed", {"going_count": 5, "capacity": 5}, {"capacity": None}, []),
    ("update, unrelated change with many going", {"going_count": 50, "capacity": 50},
     {"title": "Renamed"}, []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("current", "changes", "expected"),
    [case[1:] for case in EVENT_CASES],
    ids=[case[0] for case in EVENT_CASES],
)
async def test_event_rules(current, changes, expected) -> None:
    item = event(**current) if current is not None else None
    body = create_body(event(), **changes) if current is None else dict(changes)
    if current is None and "venue" in changes:
        body["venue"] = dict(changes["venue"])
    before_body = deepcopy(body)
    if expected:
        with pytest.raises(ValidationFailed) as exc:
            event_rules(item, body)
        assert problems(exc) == expected
    else:
        assert event_rules(item, body) == {}
    assert body == before_body


async def test_capacity_is_judged_against_going_only_on_update() -> None:
    """On create nobody is going yet: any capacity of at least one is fine."""
    assert event_rules(None, create_body(event(), capacity=1)) == {}


# --- derived fields ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "deadline_sort"),
    [({"deadline": JUNE}, JUNE), ({"rolling": True}, ROLLING_SORT_DATE), ({}, ROLLING_SORT_DATE)],
)
async def test_opportunity_derive(fields, deadline_sort) -> None:
    item = opportunity(
        title="Agri Grant", description="<p>For <b>farmers</b></p>", tags=["seed-stage"], **fields
    )
    derived = derive(OPPORTUNITY_KIND, item)
    assert derived["deadline_sort"] == deadline_sort
    assert {"agri", "grant", "farmer", "fund", "seed", "stage"} <= set(derived["search_tokens"])
    assert "p" not in derived["search_tokens"]
    assert "b" not in derived["search_tokens"]
    assert derived["title_tokens"] == ["agri", "grant"]
    assert item.search_tokens == []  # the item itself is left as it is


async def test_derive_takes_the_organisation_name() -> None:
    org = Organisation(name="Kijani Climate", slug="kijani-climate", type="ngo", members=[])
    org.id = ORG
    item = event(organisation_name="Old Name", organisation_slug="old-name")
    derived = derive(EVENT_KIND, item, org)
    assert derived["organisation_name"] == "Kijani Climate"
    assert derived["organisation_slug"] == "kijani-climate"
    assert "kijani" in derived["search_tokens"]
    assert "old" not in derived["search_tokens"]
    assert "deadline_sort" not in derived  # events have no kind-specific derived field


@pytest.mark.parametrize(
    ("status", "deadline", "reads"),
    [
        ("published", datetime(2000, 1, 1, tzinfo=UTC), "closed"),
        ("published", JUNE, "published"),
        ("published", None, "published"),
        ("draft", datetime(2000, 1, 1, tzinfo=UTC), "draft"),
    ],
)
async def test_opportunity_reader_status(status, deadline, reads) -> None:
    assert effective_status(opportunity(status=status, deadline=deadline)).value == reads


@pytest.mark.parametrize(
    ("kind", "sort", "facet"),
    [(OPPORTUNITY_KIND, OpportunitySort, OpportunityFacet), (EVENT_KIND, EventSort, EventFacet)],
)
async def test_query_models_offer_what_the_kind_serves(kind, sort, facet) -> None:
    """The spec's enums (the query models' Literals) and the kinds' sorts and facets are one
    set: a sort or facet is neither offered without being served nor served unoffered."""
    assert set(get_args(sort)) == {*kind.sorts, "relevance"}
    assert set(get_args(facet)) == set(kind.facet_fields)
    assert kind.default_sort == get_args(sort)[0]
