"""Notifications about the user's own account and memberships: security events (critical:
always delivered, in-app and by e-mail, whatever the preferences say) and organisation
invitations (in-app for a confirmed account; the invitation e-mail itself went to the
address already)."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.core.config import Settings
from app.models.base import utcnow
from app.models.invitation import Invitation
from app.models.notification import Reason, Subject
from app.models.user import User
from app.services.notifications import Draft, notify

SECURITY_TEXT = {
    "password_changed": (
        "Your password was changed",
        "Your RunWei password was changed and your other sessions were signed out. "
        "If this was not you, reset your password now.",
    ),
    "password_reset": (
        "Your password was reset",
        "Your RunWei password was reset with an e-mailed link and every session was signed "
        "out. If this was not you, reset it again and contact us.",
    ),
    "session_revoked": (
        "We signed out a session",
        "A refresh token was used twice, which happens when it is stolen: that session was "
        "ended. If you did not just sign in again elsewhere, change your password.",
    ),
}


async def security(user_id: PydanticObjectId, event: str) -> None:
    title, body = SECURITY_TEXT[event]
    await notify(
        user_id,
        Draft(
            category="account_security",
            event=event,
            dedupe_key=f"security:{event}:{utcnow().isoformat()}",
            title=title,
            body=body,
            subject=Subject(kind="account", id=str(user_id), title="Your account"),
            reason=Reason(
                type="account", id=None, label="your account", preference="account_security"
            ),
            template="account_security",
        ),
    )


async def invitation(settings: Settings, invitation_id: str) -> None:
    inv = await Invitation.get(PydanticObjectId(invitation_id))
    if inv is None:
        return
    user = await User.find_one({"email": inv.email})
    if user is None or not user.is_verified or not user.is_active or user.id is None:
        return  # only a confirmed account sees invitations
    await notify(
        user.id,
        Draft(
            category="organisation",
            event="invitation",
            dedupe_key=f"invitation:{inv.id}",
            title=f"You are invited to join {inv.organisation_name}",
            body=f"{inv.organisation_name} invited you as {inv.role.value}. Accept or decline it.",
            subject=Subject(
                kind="organisation", id=str(inv.organisation_id), title=inv.organisation_name
            ),
            reason=Reason(
                type="invitation",
                id=str(inv.id),
                label=inv.organisation_name,
                preference="organisation",
            ),
            link=f"{settings.frontend_url}/invitations",
            template="organisation_invitation",
            email_allowed=False,  # the invitation e-mail went to the address already
        ),
    )
