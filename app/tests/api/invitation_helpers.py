"""Helpers for the invitation tests: invite, answer, read members and audit actions."""

from __future__ import annotations

from beanie import PydanticObjectId
from httpx import AsyncClient

from app import email as mail_queue
from app.models.audit import AuditEntry
from app.models.organisation import Organisation

API = "/api/v1"


def invitations_url(org_id: str) -> str:
    return f"{API}/organisations/{org_id}/invitations"


async def invite(client: AsyncClient, owner, org_id: str, email: str, role: str = "editor"):
    response = await client.post(
        invitations_url(org_id), headers=owner.headers, json={"email": email, "role": role}
    )
    await mail_queue.drain()  # the invitation e-mail is sent off the request path
    return response


async def accept(client: AsyncClient, user, invitation_id: str):
    return await client.post(f"{API}/me/invitations/{invitation_id}/accept", headers=user.headers)


async def decline(client: AsyncClient, user, invitation_id: str):
    return await client.post(f"{API}/me/invitations/{invitation_id}/decline", headers=user.headers)


async def members(org_id: str) -> dict[str, str]:
    org = await Organisation.get(PydanticObjectId(org_id))
    assert org is not None
    return {str(m.user_id): m.role.value for m in org.members}


async def audit_actions(org_id: str) -> list[str]:
    entries = await AuditEntry.find(AuditEntry.entity_id == org_id).sort("+at").to_list()
    return [e.action for e in entries]
