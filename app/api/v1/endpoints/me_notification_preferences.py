"""The caller's notification preferences."""

from fastapi import APIRouter

from app.api.deps import CurrentUser
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.notification import PreferencesRead, PreferencesUpdate
from app.services.notifications import account

router = APIRouter(
    prefix="/me/notification-preferences",
    tags=["notifications"],
    responses=error_responses(401),
    route_class=StrictRoute,
)


@router.get("", operation_id="notification_preferences_get")
async def get_preferences(principal: CurrentUser) -> PreferencesRead:
    """Your preferences (the defaults until you save your own: e-mail at once for most
    categories, saved-search matches in a daily digest, announcements off)."""
    prefs, stored = await account.read(principal)
    return PreferencesRead.from_doc(prefs, stored)


@router.put("", operation_id="notification_preferences_put", responses=error_responses(422))
async def put_preferences(principal: CurrentUser, body: PreferencesUpdate) -> PreferencesRead:
    """Replace your preferences; what you omit takes its default. `account_security` cannot
    be switched off (422 `CATEGORY_LOCKED`)."""
    values = body.model_dump(exclude={"channels"})
    values["channels"] = body.channels.model_dump(exclude_none=True)
    return PreferencesRead.from_doc(await account.replace(principal, values), True)
