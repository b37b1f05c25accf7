"""Organisation invitations and member role changes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.core.pagination import Page
from app.models.invitation import Invitation, InvitationStatus
from app.models.organisation import OrgRole
from app.schemas.common import InputModel
from app.schemas.query import PageQuery
from app.schemas.validators import Email


class InvitationCreate(InputModel):
    email: Email
    role: OrgRole = Field(
        default=OrgRole.editor,
        description="The role the invited person gets when they accept (owner or editor).",
    )


class InvitedOrganisation(BaseModel):
    id: str
    name: str
    slug: str


class InvitationRead(BaseModel):
    """The same shape whether or not an account uses the address."""

    id: str
    organisation: InvitedOrganisation
    email: str
    role: OrgRole
    status: InvitationStatus = Field(
        description="`expired` once past `expires_at` without an answer."
    )
    invited_by: str
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None

    @classmethod
    def from_doc(cls, inv: Invitation) -> InvitationRead:
        return cls(
            id=str(inv.id),
            organisation=InvitedOrganisation(
                id=str(inv.organisation_id), name=inv.organisation_name, slug=inv.organisation_slug
            ),
            email=inv.email,
            role=inv.role,
            status=inv.effective_status(),
            invited_by=str(inv.invited_by),
            created_at=inv.created_at,
            expires_at=inv.expires_at,
            responded_at=inv.responded_at,
        )


class InvitationPage(Page[InvitationRead]):
    """A page of invitations."""


class MemberRoleUpdate(InputModel):
    role: OrgRole = Field(
        description="Only demotion to `editor` is direct; to make a member an owner, invite "
        "them as owner: they become one when they accept."
    )


class InvitationQuery(PageQuery):
    status: InvitationStatus = InvitationStatus.pending
