"""Invitations to join an organisation, addressed to an e-mail address."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document, PydanticObjectId
from pymongo import IndexModel

from app.models.base import Timestamps, utcnow
from app.models.organisation import OrgRole

# Answered and expired invitations stay this long after `expires_at` (owners' history), then
# MongoDB's TTL monitor drops them. Expiry itself is decided in code (the embedded backend
# never runs TTL): a pending invitation past `expires_at` reads, and acts, as expired.
KEEP_AFTER_EXPIRY_SECONDS = 90 * 24 * 3600


class InvitationStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    revoked = "revoked"
    expired = "expired"


def pending_slot(organisation_id: PydanticObjectId, email: str) -> str:
    return f"{organisation_id}:{email}"


def answered(invitation_id: Any, status: InvitationStatus, now: datetime) -> dict[str, Any]:
    """`$set` for an invitation leaving `pending`: it frees its slot for a new invitation."""
    return {
        "status": status.value,
        "slot": str(invitation_id),
        "responded_at": now,
        "updated_at": now,
    }


class Invitation(Document, Timestamps):
    organisation_id: PydanticObjectId
    organisation_name: str
    organisation_slug: str
    email: str  # normalised (trimmed, lower case)
    role: OrgRole
    status: InvitationStatus = InvitationStatus.pending
    # `pending_slot(org, email)` while pending, the invitation's own id once answered: a
    # plain unique index then allows one pending invitation per organisation and address
    # (partial indexes would do, but the embedded backend ignores their filter).
    slot: str
    invited_by: PydanticObjectId
    expires_at: datetime
    responded_at: datetime | None = None
    accepted_by: PydanticObjectId | None = None
    # Set once the acceptance has really added (or promoted) the member: an acceptance
    # interrupted between its two steps is completed by accepting again, while a member who
    # was removed later cannot rejoin by replaying an old acceptance.
    member_added_at: datetime | None = None

    def effective_status(self, now: datetime | None = None) -> InvitationStatus:
        """`expired` once past `expires_at` unanswered (whatever the TTL monitor has done)."""
        if self.status is InvitationStatus.pending and self.expires_at <= (now or utcnow()):
            return InvitationStatus.expired
        return self.status

    class Settings:
        name = "invitations"
        indexes = [
            IndexModel([("slot", 1)], unique=True, name="slot_unique"),
            IndexModel(
                [("email", 1), ("status", 1), ("created_at", -1), ("_id", -1)],
                name="email_status_created",
            ),
            IndexModel(
                [("organisation_id", 1), ("status", 1), ("created_at", -1), ("_id", -1)],
                name="organisation_status_created",
            ),
            IndexModel(
                [("expires_at", 1)],
                expireAfterSeconds=KEEP_AFTER_EXPIRY_SECONDS,
                name="ttl_expires",
            ),
        ]


class InvitationQuota(Document):
    """The invitations one organisation sent in the last 24 hours (`_id`: the organisation;
    `sent`: `{at, invitation_id}`, oldest first). The daily quota is one conditional update
    (`$push` only while fewer than the quota are there), so concurrent invitations cannot
    overshoot it the way a count followed by an insert did."""

    id: PydanticObjectId
    sent: list[dict[str, Any]] = []

    class Settings:
        name = "invitation_quotas"
