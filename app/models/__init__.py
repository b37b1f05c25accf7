"""Every Beanie document model; `DOCUMENT_MODELS` is what init_beanie registers."""

from beanie import Document

from app.models.announcement import Announcement
from app.models.audit import AuditEntry
from app.models.auth import AuthSession, LoginThrottle, OneTimeToken, RevokedToken
from app.models.dismissal import Dismissal
from app.models.email import OutboxEmail
from app.models.event import Event
from app.models.ingestion import DuplicateSuggestion, IngestedEntry, Source, SourceRun
from app.models.interaction import OpportunityInteraction, OpportunityView, Rsvp
from app.models.invitation import Invitation, InvitationQuota
from app.models.media import Media
from app.models.notification import DigestRecord, DigestSchedule, Notification
from app.models.opportunity import Opportunity
from app.models.organisation import Organisation, Partnership
from app.models.preferences import NotificationPreferences
from app.models.profile import Profile
from app.models.recommendation import CatalogueGeneration, RecommendationCache, TextEmbedding
from app.models.reference import ReferenceItem
from app.models.reminder import Reminder
from app.models.saved_search import (
    SavedSearch,
    SavedSearchCount,
    SavedSearchMatch,
    SavedSearchVersion,
)
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
    InvitationQuota,
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
    Notification,
    NotificationPreferences,
    DigestSchedule,
    DigestRecord,
    SavedSearch,
    SavedSearchMatch,
    SavedSearchCount,
    SavedSearchVersion,
    Reminder,
    Announcement,
    Source,
    SourceRun,
    IngestedEntry,
    DuplicateSuggestion,
    RecommendationCache,
    CatalogueGeneration,
    TextEmbedding,
]

__all__ = [
    "DOCUMENT_MODELS",
    "AdminRoster",
    "Announcement",
    "AuditEntry",
    "AuthSession",
    "CatalogueGeneration",
    "DigestRecord",
    "DigestSchedule",
    "Dismissal",
    "DuplicateSuggestion",
    "Event",
    "IngestedEntry",
    "Invitation",
    "InvitationQuota",
    "LoginThrottle",
    "Media",
    "Notification",
    "NotificationPreferences",
    "OneTimeToken",
    "Opportunity",
    "OpportunityInteraction",
    "OpportunityView",
    "Organisation",
    "OutboxEmail",
    "Partnership",
    "Profile",
    "RecommendationCache",
    "ReferenceItem",
    "Reminder",
    "RevokedToken",
    "Role",
    "Rsvp",
    "SavedSearch",
    "SavedSearchCount",
    "SavedSearchMatch",
    "SavedSearchVersion",
    "Source",
    "SourceRun",
    "TaskEffect",
    "TextEmbedding",
    "User",
]
