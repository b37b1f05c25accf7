"""Recommendations: the list query, the items (compact cards with a score and one reason
per criterion), a single match, "more like this", and an opportunity's audience."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

from pydantic import BaseModel, Field

from app.core.pagination import Page
from app.models.event import EventFormat
from app.schemas.catalogue import OrganisationRef
from app.schemas.query import PageQuery
from app.services.recommendations.criteria import Criterion, Verdict

if TYPE_CHECKING:
    from app.services.recommendations.audience import Audience
    from app.services.recommendations.criteria import Reason
    from app.services.recommendations.facts import ItemFacts
    from app.services.recommendations.service import (
        Match,
        Recommendations,
        SimilarItem,
    )

PROFILE_HINT = (
    "Complete your profile (PUT /profiles/me) to get recommendations that fit your business; "
    "these are popular and recent ones."
)


def missing_hint(missing: list[str]) -> str | None:
    if not missing:
        return None
    return (
        f"Add {', '.join(missing)} to your profile: eligibility rules ask about them, and "
        "items whose rules we cannot check rank lower."
    )


class RecommendationQuery(PageQuery):
    include_ineligible: bool = Field(
        default=False,
        description="Also list items an eligibility rule excludes you from (with the reason).",
    )


class SimilarQuery(PageQuery):
    """`limit`/`cursor` over the 100 most similar items."""


class ReasonRead(BaseModel):
    criterion: Criterion
    verdict: Verdict
    hard: bool = Field(
        description="An eligibility rule of the item: a mismatch excludes you, an unknown "
        "only ranks it lower."
    )
    message: str

    @classmethod
    def of(cls, reason: Reason) -> ReasonRead:
        return cls.model_construct(
            criterion=reason.criterion,
            verdict=reason.verdict,
            hard=reason.hard,
            message=reason.message,
        )


def _organisation(f: ItemFacts) -> OrganisationRef:
    return OrganisationRef.model_construct(
        id=str(f.organisation_id), name=f.organisation_name, slug=f.organisation_slug
    )


class OpportunityCard(BaseModel):
    """What a list of recommendations shows of an opportunity; the rest is at its URL."""

    id: str
    slug: str
    title: str
    summary: str
    type: str
    organisation: OrganisationRef
    deadline: datetime | None
    rolling: bool
    amount_min: int | None
    amount_max: int | None
    currency: str | None
    industries: list[str]
    tags: list[str]
    sdgs: list[str]
    target_communities: list[str]
    featured: bool
    cover_media_id: str | None
    published_at: datetime | None

    @classmethod
    def of(cls, f: ItemFacts) -> OpportunityCard:
        return cls.model_construct(
            id=str(f.id),
            slug=f.slug,
            title=f.title,
            summary=f.summary,
            type=f.type,
            organisation=_organisation(f),
            deadline=f.deadline,
            rolling=f.rolling,
            amount_min=f.amount_min,
            amount_max=f.amount_max,
            currency=f.currency,
            industries=sorted(f.industries),
            tags=sorted(f.tags),
            sdgs=sorted(f.sdgs),
            target_communities=sorted(f.communities),
            featured=f.featured,
            cover_media_id=str(f.cover_media_id) if f.cover_media_id else None,
            published_at=f.published_at,
        )


class VenueCard(BaseModel):
    name: str | None
    city: str | None
    country: str | None


class EventCard(BaseModel):
    """What a list of recommendations shows of an event (never its online link)."""

    id: str
    slug: str
    title: str
    type: str
    organisation: OrganisationRef
    start_at: datetime | None
    end_at: datetime | None
    timezone: str | None
    format: EventFormat | None
    venue: VenueCard | None
    price: int
    currency: str | None
    industries: list[str]
    tags: list[str]
    sdgs: list[str]
    target_communities: list[str]
    cover_media_id: str | None
    published_at: datetime | None

    @classmethod
    def of(cls, f: ItemFacts) -> EventCard:
        venue = None
        if f.venue_name or f.venue_city or f.venue_country:
            venue = VenueCard.model_construct(
                name=f.venue_name, city=f.venue_city, country=f.venue_country
            )
        return cls.model_construct(
            id=str(f.id),
            slug=f.slug,
            title=f.title,
            type=f.type,
            organisation=_organisation(f),
            start_at=f.start_at,
            end_at=f.end_at,
            timezone=f.timezone,
            format=EventFormat(f.format) if f.format else None,
            venue=venue,
            price=f.price,
            currency=f.currency,
            industries=sorted(f.industries),
            tags=sorted(f.tags),
            sdgs=sorted(f.sdgs),
            target_communities=sorted(f.communities),
            cover_media_id=str(f.cover_media_id) if f.cover_media_id else None,
            published_at=f.published_at,
        )


class RecommendedOpportunity(BaseModel):
    item: OpportunityCard
    score: float = Field(ge=0, le=1, description="How well it fits you, 0–1.")
    eligible: bool = Field(description="No eligibility rule is known to exclude you.")
    reasons: list[ReasonRead] = Field(description="One per criterion, in a fixed order.")


class RecommendedEvent(BaseModel):
    item: EventCard
    score: float = Field(ge=0, le=1, description="How well it fits you, 0–1.")
    eligible: bool = Field(description="No eligibility rule is known to exclude you.")
    reasons: list[ReasonRead] = Field(description="One per criterion, in a fixed order.")


class RecommendationFacts(BaseModel):
    computed_at: datetime = Field(description="When this ranking was computed.")
    has_profile: bool
    missing_profile_fields: list[str] = Field(
        description="Profile fields eligibility rules ask about that yours leaves empty."
    )
    hint: str | None = Field(description="What would make these recommendations better.")
    left_out: int = Field(
        description="Open items an eligibility rule excludes you from, not listed "
        "(up to 100 are counted); include_ineligible=true lists them with the reason."
    )


def _hint(found: Recommendations) -> str | None:
    if not found.has_profile:
        return PROFILE_HINT
    hint = missing_hint(found.missing)
    if not found.items and found.left_out:
        left = (
            f"Eligibility rules exclude you from the {found.left_out} open items we found; "
            "include_ineligible=true lists them with the reason."
        )
        hint = f"{left} {hint}" if hint else left
    return hint


def _facts(found: Recommendations) -> dict[str, Any]:
    return {
        "computed_at": found.computed_at,
        "has_profile": found.has_profile,
        "missing_profile_fields": found.missing,
        "hint": _hint(found),
        "left_out": found.left_out,
        "next_cursor": found.next_cursor,
        "total": found.total,
    }


class _RecommendedPage(RecommendationFacts):
    """`of` for both kinds' pages: each names its row and card models."""

    row: ClassVar[Any]  # RecommendedOpportunity | RecommendedEvent
    card: ClassVar[Any]  # OpportunityCard | EventCard

    @classmethod
    def of(cls, found: Recommendations) -> Self:
        items = [
            cls.row.model_construct(
                item=cls.card.of(r.item),
                score=r.score,
                eligible=r.eligible,
                reasons=[ReasonRead.of(x) for x in r.reasons],
            )
            for r in found.items
        ]
        return cast(Self, cls.model_construct(items=items, **_facts(found)))


class RecommendedOpportunityPage(Page[RecommendedOpportunity], _RecommendedPage):
    row = RecommendedOpportunity
    card = OpportunityCard


class RecommendedEventPage(Page[RecommendedEvent], _RecommendedPage):
    row = RecommendedEvent
    card = EventCard


class MatchRead(BaseModel):
    """How one opportunity fits you, criterion by criterion."""

    opportunity_id: str
    eligible: bool = Field(description="No eligibility rule is known to exclude you.")
    fit: float = Field(ge=0, le=1, description="How well the criteria fit, 0–1.")
    reasons: list[ReasonRead]
    has_profile: bool
    missing_profile_fields: list[str]
    hint: str | None

    @classmethod
    def of(cls, found: Match) -> MatchRead:
        return cls.model_construct(
            opportunity_id=str(found.item_id),
            eligible=found.eligible,
            fit=round(found.fit, 4),
            reasons=[ReasonRead.of(r) for r in found.reasons],
            has_profile=found.has_profile,
            missing_profile_fields=found.missing,
            hint=missing_hint(found.missing) if found.has_profile else PROFILE_HINT,
        )


def because(found: SimilarItem) -> list[str]:
    out = []
    if found.topics:
        out.append("Shares industries, topics, SDGs or communities")
    if found.co_saved:
        out.append("Founders who saved this also saved it")
    return out or ["Similar in what it is about"]


class SimilarOpportunity(BaseModel):
    item: OpportunityCard
    score: float = Field(ge=0, le=1)
    because: list[str]


class SimilarEvent(BaseModel):
    item: EventCard
    score: float = Field(ge=0, le=1)
    because: list[str]


class _SimilarPage(BaseModel):
    """`of` for both kinds' pages: each names its row and card models."""

    row: ClassVar[Any]  # SimilarOpportunity | SimilarEvent
    card: ClassVar[Any]  # OpportunityCard | EventCard

    @classmethod
    def of(cls, found: tuple[list[SimilarItem], str | None, int | None]) -> Self:
        items, cursor, total = found
        rows = [
            cls.row.model_construct(item=cls.card.of(s.item), score=s.score, because=because(s))
            for s in items
        ]
        return cast(Self, cls.model_construct(items=rows, next_cursor=cursor, total=total))


class SimilarOpportunityPage(Page[SimilarOpportunity], _SimilarPage):
    row = SimilarOpportunity
    card = OpportunityCard


class SimilarEventPage(Page[SimilarEvent], _SimilarPage):
    row = SimilarEvent
    card = EventCard


class OverallCounts(BaseModel):
    """Profiles by how the opportunity's rules judge them, rounded down to a multiple of the
    k-anonymity threshold; null: fewer than that, or hidden so that such a count cannot be
    worked out from the others."""

    match: int | None = Field(description="Every rule met (or none set).")
    unknown: int | None = Field(description="No rule failed; some cannot be checked.")
    mismatch: int | None = Field(description="Excluded by a rule.")


class VerdictCounts(BaseModel):
    """Profiles per verdict on one criterion (null: hidden, as above)."""

    match: int | None
    partial: int | None
    unknown: int | None
    mismatch: int | None


class CriterionAudienceRead(VerdictCounts):
    criterion: Criterion
    rule: bool = Field(description="The opportunity sets an eligibility rule on it.")


class AudienceRead(BaseModel):
    opportunity_id: str
    k_anonymity: int = Field(
        description="No count below this is shown, and every count shown is rounded down to "
        "a multiple of it."
    )
    profiles: int | None = Field(description="Founder profiles on the platform (rounded down).")
    overall: OverallCounts
    criteria: list[CriterionAudienceRead]

    @classmethod
    def of(cls, found: Audience, k: int) -> AudienceRead:
        return cls.model_construct(
            opportunity_id=str(found.item_id),
            k_anonymity=k,
            profiles=found.profiles,
            overall=OverallCounts.model_construct(**dict[str, Any](found.overall)),
            criteria=[
                CriterionAudienceRead.model_construct(
                    criterion=c.criterion, rule=c.rule, **dict[str, Any](c.counts)
                )
                for c in found.criteria
            ],
        )
