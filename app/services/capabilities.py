"""Who may do what to an organisation and its catalogue items: one table.

A cell of the table is (platform role × organisation role × action). Each action names the
platform roles that may do it in *every* organisation (staff, admins) and the organisation
roles that may do it in *their own* organisation — and membership only counts for platform
roles that publish (partners). So a user whose platform role may not create items (an
entrepreneur) may not edit, submit or otherwise manage them either, whatever their
organisation role; demoting a partner to entrepreneur takes their publishing rights away
in every organisation at once.

Services ask `allows(...)` or `require(...)`; nothing else in the code compares roles for
organisation or item actions. Whether the object exists *for the caller* (404 versus 403)
is the services' concern: this table only answers "may this caller do this here".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.core.exceptions import Forbidden
from app.models.organisation import OrgRole
from app.models.user import Role
from app.services.auth import Principal


class Action(StrEnum):
    # organisations
    org_create = "organisation.create"
    org_edit = "organisation.edit"
    org_upload_logo = "organisation.upload_logo"
    org_archive = "organisation.archive"
    org_restore = "organisation.restore"
    org_view_internal = "organisation.view_internal"  # members list; an archived organisation
    member_invite = "organisation.member_invite"
    invitation_list = "organisation.invitation_list"
    invitation_revoke = "organisation.invitation_revoke"
    member_remove = "organisation.member_remove"  # someone else (leaving is member_leave)
    member_demote = "organisation.member_demote"
    member_leave = "organisation.member_leave"
    # catalogue items (opportunities and events) of an organisation
    item_create = "item.create"
    item_edit = "item.edit"
    item_submit = "item.submit"
    item_close = "item.close"
    item_cancel = "item.cancel"
    item_archive = "item.archive"
    item_upload_cover = "item.upload_cover"
    item_view_unpublished = "item.view_unpublished"  # drafts, status reasons, online links
    item_view_attendees = "item.view_attendees"
    item_moderate = "item.moderate"  # approve, reject, publish
    item_restore = "item.restore"
    item_purge = "item.purge"


ANYONE: frozenset[Role] = frozenset(Role)
PUBLISHERS: frozenset[Role] = frozenset({Role.partner})
STAFF: frozenset[Role] = frozenset({Role.staff, Role.admin})
ADMIN: frozenset[Role] = frozenset({Role.admin})
EDITORS: frozenset[OrgRole] = frozenset({OrgRole.owner, OrgRole.editor})
OWNERS: frozenset[OrgRole] = frozenset({OrgRole.owner})
NOBODY: frozenset[OrgRole] = frozenset()


@dataclass(frozen=True)
class Rule:
    everywhere: frozenset[Role]  # platform roles allowed in every organisation
    members: frozenset[OrgRole] = NOBODY  # organisation roles allowed in their own one…
    member_platform: frozenset[Role] = PUBLISHERS  # …when their platform role is one of these


TABLE: dict[Action, Rule] = {
    Action.org_create: Rule(PUBLISHERS | STAFF),
    Action.org_edit: Rule(STAFF, EDITORS),
    Action.org_upload_logo: Rule(STAFF, EDITORS),
    Action.org_archive: Rule(STAFF, OWNERS),
    Action.org_restore: Rule(STAFF),
    Action.org_view_internal: Rule(STAFF, EDITORS, ANYONE),
    Action.member_invite: Rule(STAFF, OWNERS),
    Action.invitation_list: Rule(STAFF, OWNERS),
    Action.invitation_revoke: Rule(STAFF, OWNERS),
    Action.member_remove: Rule(STAFF, OWNERS),
    Action.member_demote: Rule(STAFF, OWNERS),
    Action.member_leave: Rule(frozenset(), EDITORS, ANYONE),
    Action.item_create: Rule(STAFF, EDITORS),
    Action.item_edit: Rule(STAFF, EDITORS),
    Action.item_submit: Rule(STAFF, EDITORS),
    Action.item_close: Rule(STAFF, EDITORS),
    Action.item_cancel: Rule(STAFF, EDITORS),
    Action.item_archive: Rule(STAFF, OWNERS),  # only staff can bring an archived item back
    Action.item_upload_cover: Rule(STAFF, EDITORS),
    Action.item_view_unpublished: Rule(STAFF, EDITORS),
    Action.item_view_attendees: Rule(STAFF, EDITORS),
    Action.item_moderate: Rule(STAFF),
    Action.item_restore: Rule(STAFF),
    Action.item_purge: Rule(ADMIN),
}


def allows(principal: Principal | None, org_role: OrgRole | None, action: Action) -> bool:
    """May `principal`, holding `org_role` in the organisation concerned (None: not a
    member), do `action` there?"""
    if principal is None:
        return False
    rule = TABLE[action]
    if principal.role in rule.everywhere:
        return True
    return org_role in rule.members and principal.role in rule.member_platform


def denial(principal: Principal | None, org_role: OrgRole | None, action: Action) -> Forbidden:
    """The 403 for a denied cell, with a code saying what is missing."""
    rule = TABLE[action]
    if not rule.members:
        if rule.everywhere <= ADMIN:
            return Forbidden("Only admins can do this.", code="ADMIN_ONLY")
        if rule.everywhere <= STAFF:
            return Forbidden("Only staff can do this.", code="STAFF_ONLY")
        return Forbidden("Your role does not allow this.", code="INSUFFICIENT_ROLE")
    if org_role is None:
        return Forbidden(
            "Only members of the organisation can do this.", code="NOT_ORGANISATION_MEMBER"
        )
    if org_role not in rule.members:
        return Forbidden(
            "Only the organisation's owners can do this.", code="NOT_ORGANISATION_OWNER"
        )
    return Forbidden(
        "Your account's role does not allow publishing for an organisation.",
        code="INSUFFICIENT_ROLE",
    )


def denial_codes(*actions: Action) -> list[str]:
    """Every code `denial` can answer for these actions (the spec's 403 examples)."""
    codes: list[str] = []
    for action in actions:
        rule = TABLE[action]
        if not rule.members:
            if rule.everywhere <= ADMIN:
                found = ["ADMIN_ONLY"]
            elif rule.everywhere <= STAFF:
                found = ["STAFF_ONLY"]
            else:
                found = ["INSUFFICIENT_ROLE"]
        else:
            found = ["NOT_ORGANISATION_MEMBER"]
            if set(OrgRole) - rule.members:
                found.append("NOT_ORGANISATION_OWNER")
            found.append("INSUFFICIENT_ROLE")
        codes += [c for c in found if c not in codes]
    return codes


def require(principal: Principal | None, org_role: OrgRole | None, action: Action) -> None:
    if not allows(principal, org_role, action):
        raise denial(principal, org_role, action)
