"""Every Beanie document model; `DOCUMENT_MODELS` is what init_beanie registers."""

from beanie import Document

from app.models.audit import AuditEntry
from app.models.auth import AuthSession, LoginThrottle, OneTimeToken, RevokedToken
from app.models.dismissal import Dismissal
from app.models.email import OutboxEmail
from app.models.event import Event
from app.models.ingestion import DuplicateSuggestion, IngestedEntry, Source, SourceRun
from app.models.interaction import OpportunityInteraction, OpportunityView, Rsvp
from app.models.invitation import Invitation
from app.models.media import Media
from app.models.opportunity import Opportunity
from app.models.organisation import Organisation, Partnership
from app.models.profile import Profile
from app.models.reference import ReferenceItem
from app.models.task import TaskEffect
from app.models.user import AdminRoster, Role, User

DOCUMENT_MODELS: list[type[Document]] = [
    User,
    AuthSession,
    RevokedToken,
    OneTimeToken,
    LoginThrottle,
    AdminRoster,
    OutboxEmail,
    ReferenceItem,
    AuditEntry,
    Organisation,
    Invitation,
    Partnership,
    Profile,
    Opportunity,
    Event,
    OpportunityInteraction,
    OpportunityView,
    Rsvp,
    Dismissal,
    Media,
    TaskEffect,
    Source,
    SourceRun,
    IngestedEntry,
    DuplicateSuggestion,
]

__all__ = [
    "DOCUMENT_MODELS",
    "AdminRoster",
    "AuditEntry",
    "AuthSession",
    "Dismissal",
    "DuplicateSuggestion",
    "Event",
    "IngestedEntry",
    "Invitation",
    "LoginThrottle",
    "Media",
    "OneTimeToken",
    "Opportunity",
    "OpportunityInteraction",
    "OpportunityView",
    "Organisation",
    "OutboxEmail",
    "Partnership",
    "Profile",
    "ReferenceItem",
    "RevokedToken",
    "Role",
    "Rsvp",
    "Source",
    "SourceRun",
    "TaskEffect",
    "User",
]
