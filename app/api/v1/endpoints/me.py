"""The caller's own saved opportunities, applications and RSVPs."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CurrentUser, PageDep
from app.api.routing import StrictRoute
from app.api.v1.endpoints.events import present as present_event
from app.api.v1.endpoints.opportunities import present as present_opportunity
from app.schemas.catalogue import ItemTombstone
from app.schemas.common import error_responses
from app.schemas.event import MyEventPage, MyEventRead, RsvpRead
from app.schemas.interaction import InteractionRead, MyOpportunityPage, MyOpportunityRead
from app.services import catalogue
from app.services import events as event_service
from app.services import opportunities as opportunity_service

router = APIRouter(
    prefix="/me", tags=["me"], responses=error_responses(401), route_class=StrictRoute
)


@router.get(
    "/opportunities", operation_id="me_opportunities_list", response_model=MyOpportunityPage
)
async def my_opportunities(
    principal: CurrentUser,
    page: PageDep,
    status: Annotated[
        str | None, Query(description="saved, interested, applied, awarded or rejected")
    ] = None,
) -> MyOpportunityPage:
    """Opportunities that are no longer public (closed, cancelled, archived) show as
    tombstones (`id`, `status`, `updated_at`); un-save or clear the application to drop them."""
    who = await catalogue.viewer(principal)
    pairs, cursor, total = await opportunity_service.my_opportunities(principal, status, page)
    items = [
        MyOpportunityRead(
            interaction=InteractionRead.from_doc(i),
            opportunity=await present_opportunity(who, o)
            if catalogue.visible_to(who, o)
            else ItemTombstone.of(o),
        )
        for i, o in pairs
    ]
    return MyOpportunityPage(items=items, next_cursor=cursor, total=total)


@router.get("/events", operation_id="me_events_list", response_model=MyEventPage)
async def my_events(principal: CurrentUser, page: PageDep) -> MyEventPage:
    """Events that are no longer public (cancelled, closed, archived) show as tombstones
    (`id`, `status`, `updated_at`); cancel the RSVP to drop them."""
    who = await catalogue.viewer(principal)
    pairs, cursor, total = await event_service.my_events(principal, page)
    items = [
        MyEventRead(
            rsvp=RsvpRead.from_doc(r),
            event=await present_event(who, e)
            if catalogue.visible_to(who, e)
            else ItemTombstone.of(e),
        )
        for r, e in pairs
    ]
    return MyEventPage(items=items, next_cursor=cursor, total=total)
