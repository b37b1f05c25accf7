"""Recommendations: ranked for the caller, one opportunity's match, more like this, and an
opportunity's audience (how many founder profiles its rules reach, k-anonymous)."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import PathKey, RecommenderDep, SignedInViewer, ViewerDep
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.recommendation import (
    AudienceRead,
    MatchRead,
    RecommendationQuery,
    RecommendedEventPage,
    RecommendedOpportunityPage,
    SimilarEventPage,
    SimilarOpportunityPage,
    SimilarQuery,
)
from app.services.capabilities import Action, denial_codes
from app.services.recommendations import audience, service

router = APIRouter(tags=["recommendations"], route_class=StrictRoute)
# 503: the ranking pool is full, or (Azure OpenAI) the embeddings service cannot be reached
BUSY = {503: ["RECOMMENDATIONS_BUSY", "EMBEDDINGS_UNAVAILABLE"]}


@router.get(
    "/me/recommendations/opportunities",
    operation_id="me_recommendations_opportunities_list",
    responses=error_responses(401, 422, 503, codes=BUSY),
)
async def opportunities_for_me(
    who: SignedInViewer, engine: RecommenderDep, query: Annotated[RecommendationQuery, Query()]
) -> RecommendedOpportunityPage:
    """Public opportunities ranked for your profile, best first, each with a score (0–1) and
    a reason per criterion (`match`, `partial`, `unknown`, `mismatch`). Items an eligibility
    rule excludes you from are left out unless `include_ineligible=true`; items whose rules
    your profile cannot answer rank lower but are never left out; what you dismissed never
    comes back. Without a profile: popular and recent items, and a hint."""
    found = await service.recommend(
        engine, who, "opportunity", query.page, query.include_ineligible
    )
    return RecommendedOpportunityPage.of(found)


@router.get(
    "/me/recommendations/events",
    operation_id="me_recommendations_events_list",
    responses=error_responses(401, 422, 503, codes=BUSY),
)
async def events_for_me(
    who: SignedInViewer, engine: RecommenderDep, query: Annotated[RecommendationQuery, Query()]
) -> RecommendedEventPage:
    """Upcoming public events ranked for your profile, each with a score and a reason per
    criterion. Events set no eligibility rules, so none is excluded."""
    found = await service.recommend(engine, who, "event", query.page, query.include_ineligible)
    return RecommendedEventPage.of(found)


@router.get(
    "/opportunities/{opportunity_id}/match",
    operation_id="opportunities_match_get",
    responses=error_responses(401, 404, 503, codes=BUSY),
)
async def match(who: SignedInViewer, engine: RecommenderDep, opportunity_id: PathKey) -> MatchRead:
    """How this opportunity (by id or slug) fits your profile, criterion by criterion."""
    return MatchRead.of(await service.match(engine, who, opportunity_id))


@router.get(
    "/opportunities/{opportunity_id}/similar",
    operation_id="opportunities_similar_list",
    responses=error_responses(404, 422, 503, codes=BUSY),
)
async def similar_opportunities(
    who: ViewerDep,
    engine: RecommenderDep,
    opportunity_id: PathKey,
    query: Annotated[SimilarQuery, Query()],
) -> SimilarOpportunityPage:
    """Public opportunities like this one, most similar first (up to 100): similar words,
    shared industries and topics, and what founders who saved it also saved. Signed in,
    what you dismissed is left out."""
    found = await service.similar(engine, who, "opportunity", opportunity_id, query.page)
    return SimilarOpportunityPage.of(found)


@router.get(
    "/events/{event_id}/similar",
    operation_id="events_similar_list",
    responses=error_responses(404, 422, 503, codes=BUSY),
)
async def similar_events(
    who: ViewerDep,
    engine: RecommenderDep,
    event_id: PathKey,
    query: Annotated[SimilarQuery, Query()],
) -> SimilarEventPage:
    """Upcoming public events like this one, most similar first (up to 100)."""
    return SimilarEventPage.of(await service.similar(engine, who, "event", event_id, query.page))


@router.get(
    "/opportunities/{opportunity_id}/audience",
    operation_id="opportunities_audience_get",
    responses=error_responses(
        401,
        403,
        404,
        503,
        codes={
            403: denial_codes(Action.item_view_unpublished),
            503: ["RECOMMENDATIONS_BUSY"],
        },
    ),
)
async def opportunity_audience(
    who: SignedInViewer, engine: RecommenderDep, opportunity_id: PathKey
) -> AudienceRead:
    """For the organisation's members and staff: how many founder profiles meet each of the
    opportunity's criteria, and all of its rules. k-anonymous: no count below 5 is shown
    (null), nor one that could be worked out from those shown; counts are rounded down to
    a multiple of 5."""
    found = await audience.audience(engine, who, opportunity_id)
    return AudienceRead.of(found, audience.K_ANONYMITY)
