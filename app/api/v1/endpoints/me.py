"""The caller's own saved opportunities, applications and RSVPs."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import SignedInViewer
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.event import MyEventPage
from app.schemas.interaction import MyOpportunityPage, MyOpportunityQuery
from app.schemas.query import PageQuery
from app.services.events import events
from app.services.opportunities import opportunities

router = APIRouter(
    prefix="/me", tags=["me"], responses=error_responses(401), route_class=StrictRoute
)


@router.get("/opportunities", operation_id="me_opportunities_list")
async def my_opportunities(
    who: SignedInViewer, query: Annotated[MyOpportunityQuery, Query()]
) -> MyOpportunityPage:
    """Opportunities that are no longer public (closed, cancelled, archived) show as
    tombstones (`id`, `status`, `updated_at`); un-save or clear the application to drop them."""
    return MyOpportunityPage.from_rows(await opportunities.mine(who, query))


@router.get("/events", operation_id="me_events_list")
async def my_events(who: SignedInViewer, query: Annotated[PageQuery, Query()]) -> MyEventPage:
    """Events that are no longer public (cancelled, closed, archived) show as tombstones
    (`id`, `status`, `updated_at`); cancel the RSVP to drop them."""
    return MyEventPage.from_rows(await events.mine(who, query))
