"""Every Beanie document model; `DOCUMENT_MODELS` is what init_beanie registers."""

from beanie import Document

from app.models.auth import AuthSession, OneTimeToken, RevokedToken
from app.models.email import OutboxEmail
from app.models.user import Role, User

DOCUMENT_MODELS: list[type[Document]] = [
    User,
    AuthSession,
    RevokedToken,
    OneTimeToken,
    OutboxEmail,
]

__all__ = [
    "DOCUMENT_MODELS",
    "AuthSession",
    "OneTimeToken",
    "OutboxEmail",
    "RevokedToken",
    "Role",
    "User",
]
