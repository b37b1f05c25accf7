"""Matching, one criterion at a time: a verdict per criterion and a sentence a founder can
act on ("Open to Agriculture & Food and Fintech: your industry is Fintech").

This is the reference definition of matching: explanations, `/match`, the audience counts
and the tests use it item by item; `features.py` computes the same verdicts for every
item at once, and a test checks that the two always agree.

Verdicts: `match`, `partial`, `mismatch`, `unknown` (the profile does not say, or the item
does not). Internally a fifth, OPEN — the item sets no rule on this criterion — is shown as
`match`. A criterion is *hard* when the item sets an eligibility rule on it: a hard mismatch
makes the item ineligible (filtered unless asked for), a hard unknown only ranks it lower.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args

import pycountry

from app.services.recommendations.facts import ItemFacts, Kind, ProfileFacts

MATCH, PARTIAL, UNKNOWN, MISMATCH, OPEN = 0, 1, 2, 3, 4
VERDICTS = ("match", "partial", "unknown", "mismatch", "match")
Verdict = Literal["match", "partial", "unknown", "mismatch"]
Criterion = Literal[
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
CRITERIA: dict[Kind, tuple[Criterion, ...]] = {
    "opportunity": get_args(Criterion),  # every criterion, in the order reasons are listed
    "event": ("industries", "location", "target_communities", "sdgs", "interests"),
}
STAGES = {
    "idea": "idea",
    "pre_revenue": "pre-revenue",
    "early_revenue": "early-revenue",
    "growth": "growth",
    "established": "established",
}
REVENUE = {
    "none": "no revenue yet",
    "under_10k": "under 10k",
    "10k_100k": "10k–100k",
    "100k_1m": "100k–1M",
    "over_1m": "over 1M",
}
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF"})
ZERO_DECIMAL |= {"UGX", "VND", "VUV", "XAF", "XOF", "XPF"}


@dataclass(frozen=True, slots=True)
class Reason:
    criterion: Criterion
    verdict: Verdict
    hard: bool  # an eligibility rule of the item (a mismatch makes it ineligible)
    message: str


@dataclass(frozen=True, slots=True)
class Names:
    """Display names of reference slugs (reference kind → slug → name)."""

    refs: Mapping[str, Mapping[str, str]]

    def of(self, ref_kind: str, slugs: Iterable[str]) -> list[str]:
        names = self.refs.get(ref_kind, {})
        return sorted(names.get(s, s.replace("-", " ")) for s in slugs)


NO_NAMES = Names({})


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    found = pycountry.countries.get(alpha_2=code)
    return str(getattr(found, "common_name", None) or found.name) if found else code


def listing(names: Iterable[str], limit: int = 4, conj: str = "and") -> str:
    """'A', 'A and B', 'A, B and C', 'A, B, C, D and 2 more'."""
    items = list(names)
    if len(items) > limit:
        return f"{', '.join(items[:limit])} and {len(items) - limit} more"
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conj} {items[-1]}"


def money(amount: int, currency: str) -> str:
    major = amount if currency in ZERO_DECIMAL else amount / 100
    return f"{currency} {major:,.0f}"


def amount_range(low: int | None, high: int | None, currency: str) -> str:
    if low is not None and high is not None:
        if low == high:
            return money(low, currency)
        return f"{money(low, currency)}–{money(high, currency).split(' ', 1)[1]}"
    if high is not None:
        return f"up to {money(high, currency)}"
    return f"from {money(low or 0, currency)}"


def span(low: int | None, high: int | None, unit: str) -> str:
    if low is not None and high is not None:
        return f"{low}–{high} {unit}"
    if low is not None:
        return f"at least {low} {unit}"
    return f"at most {high} {unit}"


Judged = tuple[int, bool, str]  # code, hard, message


@dataclass(frozen=True, slots=True)
class Phrases:
    name: Callable[[Iterable[str]], str]  # slugs -> "A, B and C"
    open_to: str  # "Open to" / "For"
    everyone: str  # "Open to every industry"
    add: str  # "add your industry to your profile"
    yes: str  # "your industry is {common}"
    no: str  # "your profile says {mine}"


def _set_rule(
    rule: frozenset[str], aimed: frozenset[str], mine: frozenset[str], say: Phrases
) -> Judged:
    """A list the item may restrict to (`rule`: hard) or only be aimed at (`aimed`: soft)."""
    n = say.name
    if rule:
        if not mine:
            return UNKNOWN, True, f"{say.open_to} {n(rule)}: {say.add}"
        common = rule & mine
        if common:
            return MATCH, True, f"{say.open_to} {n(rule)}: {say.yes.format(common=n(common))}"
        return MISMATCH, True, f"Only for {n(rule)}; {say.no.format(mine=n(mine))}"
    if not aimed:
        return OPEN, False, say.everyone
    if not mine:
        return OPEN, False, f"{say.everyone} (aimed at {n(aimed)})"
    common = aimed & mine
    if common:
        return MATCH, False, f"{say.everyone} and aimed at {n(common)}, like you"
    return PARTIAL, False, f"{say.everyone}, though aimed at {n(aimed)}"


def _industries(p: ProfileFacts, i: ItemFacts, names: Names) -> Judged:
    say = Phrases(
        name=lambda slugs: listing(names.of("industries", slugs)),
        open_to="Open to",
        everyone="Open to every industry",
        add="add your industry to your profile",
        yes="your industry is {common}",
        no="your profile says {mine}",
    )
    return _set_rule(i.rule_industries, i.industries, p.industries, say)


def _communities(p: ProfileFacts, i: ItemFacts, names: Names) -> Judged:
    say = Phrases(
        name=lambda slugs: listing(names.of("target-communities", slugs)),
        open_to="For",
        everyone="Open to everyone",
        add="add the communities you belong to to your profile",
        yes="you are part of {common}",
        no="your profile lists {mine}",
    )
    return _set_rule(i.rule_communities, i.communities, p.communities, say)


def _one_of(
    rule: frozenset[str], mine: str | None, labels: Mapping[str, str], stage: bool
) -> Judged:
    """A single fact of the profile (stage, revenue band) against the values the item allows."""
    what = "stage" if stage else "revenue band"
    if not rule:
        return OPEN, False, "Open at every stage" if stage else "Open at any revenue"
    allowed = listing((labels[r] for r in labels if r in rule), conj="or")
    for_ = f"For businesses at the {allowed} stage" if stage else f"For annual revenue {allowed}"
    if mine is None:
        return UNKNOWN, True, f"{for_}: add your {what} to your profile"
    label = labels.get(mine, mine)
    yours = f"yours is at the {label} stage" if stage else f"yours is {label}"
    if mine in rule:
        return MATCH, True, f"{for_}: {yours}"
    return MISMATCH, True, f"Only {for_[0].lower()}{for_[1:]}; {yours}"


def _range(
    low: int | None, high: int | None, mine: int | None, unit: str, topic: str, add: str
) -> Judged:
    if low is None and high is None:
        return OPEN, False, f"No requirement on {topic}"
    needs = f"Needs {span(low, high, unit)}"
    if mine is None:
        return UNKNOWN, True, f"{needs}: {add}"
    if (low is None or mine >= low) and (high is None or mine <= high):
        return MATCH, True, f"{needs}: you have {mine}"
    return MISMATCH, True, f"{needs}; you have {mine}"


def _location(p: ProfileFacts, i: ItemFacts) -> Judged:
    if not i.countries and not i.regions:
        return OPEN, False, "Open to applicants from every country"
    where = listing(country_name(c) for c in sorted(i.countries))
    if i.countries:
        if p.country is None:
            return UNKNOWN, True, f"Open in {where}: add your country to your profile"
        if p.country not in i.countries:
            return MISMATCH, True, f"Only for {where}; you are in {country_name(p.country)}"
        if not i.regions:
            return MATCH, True, f"Open in {where}, where you are"
    regions = listing(i.region_names or sorted(i.regions))
    if p.region is None:
        return UNKNOWN, True, f"Open in {regions}: add your region to your profile"
    if p.region in i.regions:
        return MATCH, True, f"Open in {regions}, where you are"
    return MISMATCH, True, f"Only for {regions}; you are in {p.region_name or p.region}"


def _event_location(p: ProfileFacts, i: ItemFacts) -> Judged:
    if i.format == "online":
        return OPEN, False, "Online: join from anywhere"
    if i.venue_country is None:
        return UNKNOWN, False, "The location is not stated"
    place = ", ".join(x for x in (i.venue_city, country_name(i.venue_country)) if x)
    if p.country is None:
        return UNKNOWN, False, f"In {place}: add your country to your profile"
    if p.country == i.venue_country:
        return MATCH, False, f"In {place}, where you are"
    if i.format == "hybrid":
        return PARTIAL, False, f"In {place}, or online"
    return MISMATCH, False, f"In {place}; you are in {country_name(p.country)}"


def _amount(p: ProfileFacts, i: ItemFacts) -> Judged:
    if (i.amount_min is None and i.amount_max is None) or not i.currency:
        return UNKNOWN, False, "The amount is not stated"
    offers = f"Offers {amount_range(i.amount_min, i.amount_max, i.currency)}"
    if p.funding is None:
        return UNKNOWN, False, f"{offers}: add the funding you look for to your profile"
    low, high, currency = p.funding
    need = amount_range(low, high, currency)
    if currency != i.currency:
        return UNKNOWN, False, f"{offers}; you look for {need}"
    overlaps = (i.amount_max is None or low is None or i.amount_max >= low) and (
        i.amount_min is None or high is None or i.amount_min <= high
    )
    if overlaps:
        return MATCH, False, f"{offers}, within what you look for ({need})"
    return MISMATCH, False, f"{offers}; you look for {need}"


def _listed(theirs: frozenset[str], mine: frozenset[str], names: Names, ref: str) -> Judged:
    """Soft: the item's SDGs (`ref` "sdgs") or topics ("tags") against the profile's."""
    what, verb = ("SDGs", "Works towards") if ref == "sdgs" else ("interests", "About")
    if not theirs:
        return UNKNOWN, False, "Names no SDGs" if ref == "sdgs" else "Names no topics"
    named = listing(names.of(ref, theirs))
    if not mine:
        return UNKNOWN, False, f"{verb} {named}: add your {what} to your profile"
    common = theirs & mine
    if common:
        return MATCH, False, f"{verb} {listing(names.of(ref, common))}, like you"
    return MISMATCH, False, f"{verb} {named}, not among your {what}"


def judge(criterion: Criterion, p: ProfileFacts, i: ItemFacts, names: Names) -> Judged:
    """The verdict of one criterion (the item's kind decides which criteria it has)."""
    if criterion == "industries":
        return _industries(p, i, names)
    if criterion == "target_communities":
        return _communities(p, i, names)
    if criterion == "location":
        return _event_location(p, i) if i.kind == "event" else _location(p, i)
    if criterion == "stage":
        return _one_of(i.stages, p.stage, STAGES, stage=True)
    if criterion == "revenue_band":
        return _one_of(i.revenue_bands, p.revenue_band, REVENUE, stage=False)
    if criterion == "years_in_business":
        add = "add the year you started to your profile"
        years = p.years_in_business
        return _range(
            i.min_years, i.max_years, years, "years in business", "years in business", add
        )
    if criterion == "team_size":
        add = "add your team size to your profile"
        return _range(i.min_team, i.max_team, p.team_size, "people", "team size", add)
    if criterion == "amount":
        return _amount(p, i)
    if criterion == "sdgs":
        return _listed(i.sdgs, p.sdgs, names, "sdgs")
    return _listed(i.tags, p.interests, names, "tags")


def reasons(p: ProfileFacts, i: ItemFacts, names: Names) -> list[Reason]:
    """One reason per criterion of the item's kind, in a fixed order."""
    out = []
    for criterion in CRITERIA[i.kind]:
        code, hard, message = judge(criterion, p, i, names)
        out.append(Reason(criterion, VERDICTS[code], hard, message))  # type: ignore[arg-type]
    return out


def codes(p: ProfileFacts, i: ItemFacts) -> list[tuple[int, bool]]:
    """(code, hard) per criterion: what ranking and the audience counts use."""
    return [judge(c, p, i, NO_NAMES)[:2] for c in CRITERIA[i.kind]]


def eligible(p: ProfileFacts, i: ItemFacts) -> bool:
    return not any(hard and code == MISMATCH for code, hard in codes(p, i))
