"""The vectorised verdicts (`features.py`) are exactly the reference ones (`criteria.py`),
for random profiles against random items of both kinds."""

from __future__ import annotations

from datetime import UTC, datetime

from beanie import PydanticObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.recommendations import criteria
from app.services.recommendations.facts import ItemFacts, ProfileFacts
from app.services.recommendations.features import Features, Vocabulary, verdicts

SLUGS = st.frozensets(st.sampled_from(["a", "b", "c", "d"]), max_size=3)
NUMBER = st.none() | st.integers(0, 12)
CURRENCY = st.none() | st.sampled_from(["USD", "KES"])
ORG = PydanticObjectId()


@st.composite
def profiles(draw) -> ProfileFacts:
    funding = None
    if draw(st.booleans()):
        low, high = draw(NUMBER), draw(NUMBER)
        funding = (low, high, draw(st.sampled_from(["USD", "KES", "EUR"])))
    return ProfileFacts(
        industries=draw(SLUGS),
        stage=draw(st.none() | st.sampled_from(["idea", "growth"])),
        country=draw(st.none() | st.sampled_from(["KE", "UG"])),
        region=draw(st.none() | st.sampled_from(["nairobi", "kampala"])),
        communities=draw(SLUGS),
        years_in_business=draw(NUMBER),
        team_size=draw(NUMBER),
        revenue_band=draw(st.none() | st.sampled_from(["none", "under_10k"])),
        funding=funding,
        sdgs=draw(SLUGS),
        interests=draw(SLUGS),
        exists=True,
    )


@st.composite
def items(draw) -> ItemFacts:
    kind = draw(st.sampled_from(["opportunity", "event"]))
    common = {
        "id": PydanticObjectId(),
        "kind": kind,
        "slug": "x",
        "title": "x",
        "type": "grant",
        "organisation_id": ORG,
        "organisation_name": "Org",
        "organisation_slug": "org",
        "published_at": datetime(2026, 1, 1, tzinfo=UTC),
        "industries": draw(SLUGS),
        "communities": draw(SLUGS),
        "sdgs": draw(SLUGS),
        "tags": draw(SLUGS),
    }
    if kind == "event":
        return ItemFacts(
            **common,
            format=draw(st.sampled_from(["in_person", "online", "hybrid"])),
            venue_country=draw(st.none() | st.sampled_from(["KE", "UG"])),
            venue_region=draw(st.none() | st.sampled_from(["nairobi", "kampala"])),
        )
    return ItemFacts(
        **common,
        rule_industries=draw(SLUGS),
        stages=draw(st.frozensets(st.sampled_from(["idea", "growth", "established"]))),
        countries=draw(st.frozensets(st.sampled_from(["KE", "UG", "TZ"]), max_size=2)),
        regions=draw(st.frozensets(st.sampled_from(["nairobi", "kampala"]), max_size=1)),
        rule_communities=draw(SLUGS),
        min_years=draw(NUMBER),
        max_years=draw(NUMBER),
        min_team=draw(NUMBER),
        max_team=draw(NUMBER),
        revenue_bands=draw(st.frozensets(st.sampled_from(["none", "over_1m"]))),
        amount_min=draw(NUMBER),
        amount_max=draw(NUMBER),
        currency=draw(CURRENCY),
    )


@settings(max_examples=300, deadline=None)
@given(profiles(), st.lists(items(), min_size=1, max_size=12))
def test_vectorised_verdicts_are_the_reference_ones(profile, batch) -> None:
    vocab, labels = Vocabulary(), Vocabulary()
    for kind in ("opportunity", "event"):
        rows = [i for i in batch if i.kind == kind]
        if not rows:
            continue
        codes, hard = verdicts(kind, Features.build(rows, vocab, labels), profile, vocab, labels)
        for row, item in enumerate(rows):
            expected = criteria.codes(profile, item)
            got = list(zip(codes[row].tolist(), hard[row].tolist(), strict=True))
            assert got == expected, (item, profile)


def test_messages_name_what_matched() -> None:
    item = ItemFacts(
        id=PydanticObjectId(), kind="opportunity", slug="x", title="x", type="grant",
        organisation_id=ORG, organisation_name="Org", organisation_slug="org", published_at=None,
        rule_industries=frozenset({"fintech", "agriculture-food"}),
        stages=frozenset({"idea", "growth"}),
    )  # fmt: skip
    names = criteria.Names({"industries": {"fintech": "Fintech", "agriculture-food": "Agri"}})
    founder = ProfileFacts(industries=frozenset({"fintech"}), stage="established", exists=True)
    by = {r.criterion: r for r in criteria.reasons(founder, item, names)}
    assert by["industries"].message == "Open to Agri and Fintech: your industry is Fintech"
    assert (by["industries"].verdict, by["industries"].hard) == ("match", True)
    assert by["stage"].message == (
        "Only for businesses at the idea or growth stage; yours is at the established stage"
    )
    assert by["location"].verdict == "match"
    assert not by["location"].hard
