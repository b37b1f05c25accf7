"""Rendered previews of every e-mail template for admins, from sample values (no user data):
`GET /admin/email-templates/{name}/preview`."""

from __future__ import annotations

from typing import Any, Literal

from app import email
from app.core.config import Settings

TemplateName = Literal[
    "welcome",
    "verify_email",
    "reset_password",
    "saved_search_alert",
    "digest",
    "deadline_reminder",
    "event_reminder",
    "rsvp_confirmation",
    "waitlist_promotion",
    "event_cancelled",
    "saved_item_changed",
    "moderation_outcome",
    "organisation_invitation",
    "announcement",
    "account_security",
]

_CHANGE = {"field": "deadline", "before": "1 March 2027", "after": "15 March 2027"}


def _note(title: str, body: str, reason: str, **extra: Any) -> dict[str, Any]:
    return {
        "full_name": "Amina Njoroge",
        "title": title,
        "body": body,
        "link": "https://app.runwei.example/opportunities/solar-grant",
        "changes": [],
        "reason": reason,
        "unsubscribe_url": "https://app.runwei.example/unsubscribe?token=sample",
        "search_name": "",
        **extra,
    }


SAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "welcome": (
        "Welcome to RunWei",
        {"full_name": "Amina Njoroge", "link": "https://app.runwei.example"},
    ),
    "verify_email": (
        "Confirm your RunWei e-mail address",
        {
            "full_name": "Amina Njoroge",
            "link": "https://app.runwei.example/verify-email?token=sample",
            "hours": 48,
        },
    ),
    "reset_password": (
        "Reset your RunWei password",
        {
            "full_name": "Amina Njoroge",
            "link": "https://app.runwei.example/reset-password?token=sample",
            "minutes": 60,
        },
    ),
    "saved_search_alert": (
        "New opportunity for “Solar in Kenya”: Solar Pumps Grant",
        _note(
            "New opportunity for “Solar in Kenya”: Solar Pumps Grant",
            "“Solar Pumps Grant” by Green Fund matches your saved search “Solar in Kenya”.",
            "you saved the search “Solar in Kenya” with e-mail alerts",
            search_name="Solar in Kenya",
        ),
    ),
    "digest": (
        "Your RunWei digest: 2 updates",
        {
            "full_name": "Amina Njoroge",
            "entries": [
                {
                    "title": "New opportunity for “Solar in Kenya”: Solar Pumps Grant",
                    "body": "",
                    "link": "https://app.runwei.example/opportunities/solar-grant",
                    "changes": [],
                },
                {
                    "title": "Solar Pumps Grant: deadline moved from 1 March 2027 to 15 March 2027",
                    "body": "",
                    "link": None,
                    "changes": [_CHANGE],
                },
            ],
            "reason": "you chose daily or weekly digests for some notifications",
            "unsubscribe_url": "https://app.runwei.example/unsubscribe?token=sample",
        },
    ),
    "deadline_reminder": (
        "Deadline in 3 days: Solar Pumps Grant",
        _note(
            "Deadline in 3 days: Solar Pumps Grant",
            "Applications close on 15 March 2027.",
            "you saved “Solar Pumps Grant”",
        ),
    ),
    "event_reminder": (
        "Starts tomorrow: Founders' Breakfast",
        _note(
            "Starts tomorrow: Founders' Breakfast",
            "“Founders' Breakfast” starts on 2 March 2027, 08:00 (Africa/Nairobi).",
            "you RSVPed to “Founders' Breakfast”",
        ),
    ),
    "rsvp_confirmation": (
        "You're going: Founders' Breakfast",
        _note(
            "You're going: Founders' Breakfast",
            "See you on 2 March 2027, 08:00 (Africa/Nairobi).",
            "you RSVPed to “Founders' Breakfast”",
        ),
    ),
    "waitlist_promotion": (
        "A seat is yours: Founders' Breakfast",
        _note(
            "A seat is yours: Founders' Breakfast",
            "You moved up from the waitlist and are going.",
            "you RSVPed to “Founders' Breakfast”",
        ),
    ),
    "event_cancelled": (
        "Cancelled by the organiser: Founders' Breakfast",
        _note(
            "Cancelled by the organiser: Founders' Breakfast",
            "Nairobi Hub cancelled “Founders' Breakfast”.",
            "you RSVPed to “Founders' Breakfast”",
        ),
    ),
    "saved_item_changed": (
        "Solar Pumps Grant: deadline moved from 1 March 2027 to 15 March 2027",
        _note(
            "Solar Pumps Grant: deadline moved from 1 March 2027 to 15 March 2027",
            "Deadline moved from 1 March 2027 to 15 March 2027.",
            "you saved “Solar Pumps Grant”",
            changes=[_CHANGE],
        ),
    ),
    "moderation_outcome": (
        "Changes requested: Solar Pumps Grant",
        _note(
            "Changes requested: Solar Pumps Grant",
            "Reason: Add the eligibility criteria.",
            "you are a member of Green Fund",
        ),
    ),
    "organisation_invitation": (
        "You are invited to join Green Fund on RunWei",
        {
            "organisation_name": "Green Fund",
            "role": "editor",
            "link": "https://app.runwei.example/invitations",
            "days": 14,
        },
    ),
    "announcement": (
        "New funding round",
        _note(
            "New funding round",
            "Applications open on 1 May.",
            "you chose to receive RunWei announcements",
        ),
    ),
    "account_security": (
        "Your password was changed",
        {
            **_note(
                "Your password was changed",
                "If this was not you, reset your password now.",
                "it concerns the security of your account",
            ),
            "unsubscribe_url": None,
            "link": None,
        },
    ),
}


def preview(settings: Settings, name: str) -> tuple[str, str, str | None]:
    """(subject, text, html) of the template with its sample values."""
    subject, context = SAMPLES[name]
    values = {"app_name": "RunWei", "frontend_url": settings.frontend_url, **context}
    return subject, email.render(name, values), email.render_html(name, values)
