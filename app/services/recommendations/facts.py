"""What recommendations know about a profile and an item: plain, immutable facts taken from
the documents once, so matching, ranking and explaining never touch a document again.

Items are read from raw MongoDB rows (the index loads tens of thousands at a time, where
validating each into its document model would cost more than everything else); the field
names are the documents' own (`models/opportunity.py`, `models/event.py`).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from beanie import PydanticObjectId

from app.models.opportunity import ROLLING_SORT_DATE
from app.models.profile import Profile
from app.seed.reference_data import SDGS
from app.utils.text import fold, strip_html

Kind = Literal["opportunity", "event"]
Funding = tuple[int | None, int | None, str]


def _words(slugs: Iterable[str]) -> list[str]:
    """Reference slugs as words for text similarity ('sdg-5' → its goal's name)."""
    out = []
    for slug in slugs:
        number = slug.removeprefix("sdg-")
        if number != slug and number.isdigit() and 1 <= int(number) <= len(SDGS):
            out.append(SDGS[int(number) - 1])
        else:
            out.append(slug.replace("-", " "))
    return out


def _region(value: str | None) -> str | None:
    folded = fold(value).strip() if value else ""
    return folded or None


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ProfileFacts:
    """A founder as matching sees them. Absent facts are None or empty: `unknown`, never a
    mismatch."""

    industries: frozenset[str] = frozenset()
    stage: str | None = None
    country: str | None = None
    region: str | None = None  # folded (case and accents)
    region_name: str | None = None  # as the founder wrote it
    communities: frozenset[str] = frozenset()
    years_in_business: int | None = None
    team_size: int | None = None
    revenue_band: str | None = None
    funding: Funding | None = None
    sdgs: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()
    text: str = ""
    exists: bool = False  # the user has a profile at all

    @classmethod
    def of(cls, profile: Profile | None, now: datetime) -> ProfileFacts:
        if profile is None:
            return cls()
        funding = profile.funding
        years = None
        if profile.founded_year is not None:
            years = max(0, now.year - profile.founded_year)
        words = [
            *_words(profile.industries),
            *_words(profile.interests),
            *_words(profile.sdgs),
            *_words(profile.target_communities),
        ]
        return cls(
            industries=frozenset(profile.industries),
            stage=profile.stage.value if profile.stage else None,
            country=profile.country,
            region=_region(profile.region),
            region_name=profile.region,
            communities=frozenset(profile.target_communities),
            years_in_business=years,
            team_size=profile.team_size,
            revenue_band=profile.revenue_band.value if profile.revenue_band else None,
            funding=(funding.amount_min, funding.amount_max, funding.currency) if funding else None,
            sdgs=frozenset(profile.sdgs),
            interests=frozenset(profile.interests),
            text=" ".join([profile.bio, *words]).strip(),
            exists=True,
        )

    def missing(self) -> list[str]:
        """Profile fields that eligibility rules ask about and this profile leaves empty."""
        checks = {
            "industries": bool(self.industries),
            "stage": self.stage is not None,
            "country": self.country is not None,
            "founded_year": self.years_in_business is not None,
            "team_size": self.team_size is not None,
            "revenue_band": self.revenue_band is not None,
            "funding": self.funding is not None,
            "interests": bool(self.interests),
        }
        return [name for name, present in checks.items() if not present]

    def fingerprint(self) -> str:
        data = {k: sorted(v) if isinstance(v, frozenset) else v for k, v in asdict(self).items()}
        raw = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """A published item as ranking, explaining and its card need it."""

    id: PydanticObjectId
    kind: Kind
    slug: str
    title: str
    type: str
    organisation_id: PydanticObjectId
    organisation_name: str
    organisation_slug: str
    published_at: datetime | None
    cover_media_id: PydanticObjectId | None = None
    featured: bool = False
    summary: str = ""
    industries: frozenset[str] = frozenset()
    communities: frozenset[str] = frozenset()
    sdgs: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    # until when it can be recommended (a deadline, the end of registration); None: open-ended
    closes_at: datetime | None = None
    # what urgency counts down to (a deadline, an event's start); None: rolling
    due_at: datetime | None = None
    # opportunities: amounts and eligibility rules
    deadline: datetime | None = None
    rolling: bool = False
    amount_min: int | None = None
    amount_max: int | None = None
    currency: str | None = None
    rule_industries: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()  # folded
    region_names: tuple[str, ...] = ()  # as the publisher wrote them
    rule_communities: frozenset[str] = frozenset()
    min_years: int | None = None
    max_years: int | None = None
    min_team: int | None = None
    max_team: int | None = None
    revenue_bands: frozenset[str] = frozenset()
    # events
    start_at: datetime | None = None
    end_at: datetime | None = None
    timezone: str | None = None
    format: str | None = None
    venue_name: str | None = None
    venue_city: str | None = None
    venue_country: str | None = None
    venue_region: str | None = None  # folded
    price: int = 0
    version: int = 1
    updated_at: datetime | None = None  # with `version`: has the row changed since?
    popularity: int = 0  # saves and applications, or people going and interested


_SETS: dict[frozenset[str], frozenset[str]] = {}


def _ids(values: Any) -> frozenset[str]:
    """A set of slugs, shared with every other item that has the same one (items repeat a
    few combinations of reference values: at 50,000 items this halves the index's memory)."""
    found = frozenset(sys.intern(str(v)) for v in values or ())
    if len(_SETS) > 100_000:
        _SETS.clear()
    return _SETS.setdefault(found, found)


def _common(kind: Kind, raw: Mapping[str, Any]) -> dict[str, Any]:
    cover = raw.get("cover_media_id")
    return {
        "id": PydanticObjectId(raw["_id"]),
        "kind": kind,
        "slug": raw.get("slug", ""),
        "title": raw.get("title", ""),
        "type": sys.intern(raw.get("type", "")),
        "organisation_id": PydanticObjectId(raw["organisation_id"]),
        "organisation_name": sys.intern(raw.get("organisation_name", "")),
        "organisation_slug": sys.intern(raw.get("organisation_slug", "")),
        "published_at": _utc(raw.get("published_at")),
        "cover_media_id": PydanticObjectId(cover) if cover else None,
        "industries": _ids(raw.get("industries")),
        "communities": _ids(raw.get("target_communities")),
        "sdgs": _ids(raw.get("sdgs")),
        "tags": _ids(raw.get("tags")),
        "version": int(raw.get("version", 1)),
        "updated_at": _utc(raw.get("updated_at")),
    }


def opportunity_facts(raw: Mapping[str, Any]) -> ItemFacts:
    rules = raw.get("eligibility") or {}
    deadline = _utc(raw.get("deadline"))
    return ItemFacts(
        **_common("opportunity", raw),
        featured=bool(raw.get("featured")),
        summary=raw.get("summary") or "",
        closes_at=deadline,
        due_at=deadline,
        deadline=deadline,
        rolling=bool(raw.get("rolling")),
        amount_min=raw.get("amount_min"),
        amount_max=raw.get("amount_max"),
        currency=raw.get("currency"),
        rule_industries=_ids(rules.get("industries")),
        stages=_ids(rules.get("stages")),
        countries=_ids(rules.get("countries")),
        regions=frozenset(r for r in (_region(v) for v in rules.get("regions") or ()) if r),
        region_names=tuple(rules.get("regions") or ()),
        rule_communities=_ids(rules.get("target_communities")),
        min_years=rules.get("min_years_in_business"),
        max_years=rules.get("max_years_in_business"),
        min_team=rules.get("min_team_size"),
        max_team=rules.get("max_team_size"),
        revenue_bands=_ids(rules.get("revenue_bands")),
        popularity=int(raw.get("saves", 0)) + int(raw.get("applications", 0)),
    )


def event_facts(raw: Mapping[str, Any]) -> ItemFacts:
    venue = raw.get("venue") or {}
    start, end = _utc(raw.get("start_at")), _utc(raw.get("end_at"))
    registration = _utc(raw.get("registration_deadline"))
    closes = min(d for d in (registration, end) if d is not None) if (registration or end) else None
    return ItemFacts(
        **_common("event", raw),
        closes_at=closes,
        due_at=start,
        start_at=start,
        end_at=end,
        timezone=raw.get("timezone"),
        format=raw.get("format"),
        venue_name=venue.get("name"),
        venue_city=venue.get("city"),
        venue_country=venue.get("country"),
        venue_region=_region(venue.get("region")),
        price=int(raw.get("price") or 0),
        currency=raw.get("currency"),
        popularity=int(raw.get("going_count", 0)) + int(raw.get("interested_count", 0)),
    )


def facts_of(kind: Kind, raw: Mapping[str, Any]) -> ItemFacts:
    return opportunity_facts(raw) if kind == "opportunity" else event_facts(raw)


def item_text(raw: Mapping[str, Any]) -> str:
    """The words text similarity compares: title (twice: it says most), summary, description
    without markup, and the item's reference lists as words."""
    description = raw.get("description") or ""
    if "<" in description:
        description = strip_html(description)
    parts = [
        raw.get("title", ""),
        raw.get("title", ""),
        raw.get("summary") or "",
        description,
        *_words(raw.get("tags") or ()),
        *_words(raw.get("industries") or ()),
        *_words(raw.get("sdgs") or ()),
        *_words(raw.get("target_communities") or ()),
        *_words((raw.get("eligibility") or {}).get("industries") or ()),
    ]
    return " ".join(p for p in parts if p)


def changed(item: ItemFacts, raw: Mapping[str, Any]) -> bool:
    """Whether `raw` is a newer state of `item` (edits bump the version; an organisation's
    rename only touches `updated_at`)."""
    return item.version != int(raw.get("version", 1)) or item.updated_at != _utc(
        raw.get("updated_at")
    )


def is_open(item: ItemFacts, now: datetime) -> bool:
    return item.closes_at is None or item.closes_at > now


# What the index loads: published items that may still be recommended. (Fields it never
# needs stay in the database.)
PROJECTION = {"search_tokens": 0, "title_tokens": 0, "pending_revision": 0, "revision_decision": 0}


def open_filter(kind: Kind, now: datetime) -> dict[str, Any]:
    if kind == "opportunity":
        return {"status": "published", "deadline_sort": {"$gt": now}}
    return {"status": "published", "end_at": {"$gt": now}}


def recommendable(kind: Kind, raw: Mapping[str, Any], now: datetime) -> bool:
    """The same rule as `open_filter`, for a row read for another reason (a change)."""
    if raw.get("status") != "published":
        return False
    if kind == "opportunity":
        deadline = _utc(raw.get("deadline_sort")) or ROLLING_SORT_DATE
        return deadline > now
    end = _utc(raw.get("end_at"))
    return end is not None and end > now
