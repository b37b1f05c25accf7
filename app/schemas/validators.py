"""Reusable field validators for request schemas (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pycountry
from pydantic import AfterValidator, AwareDatetime, EmailStr, Field, HttpUrl, TypeAdapter

from app.utils.text import slugify


@lru_cache(maxsize=4096)  # pure; bulk imports validate the same codes thousands of times
def _country(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code")
    return code


@lru_cache(maxsize=1024)
def _currency(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError("must be an ISO 4217 currency code")
    return code


def _timezone(value: str) -> str:
    if value not in _zones():
        raise ValueError("must be an IANA time zone, e.g. Africa/Nairobi")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone") from exc
    return value


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


# What a client may send as a date-time. Beyond it, converting to UTC overflows Python's
# datetime (`0001-01-01T00:00+14:00` was a 500), and a stored date near the edge breaks
# later arithmetic (a calendar entry in the event's zone, reminders before the start).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        value = EARLIEST - (LATEST - EARLIEST)  # out of range either way
    if not EARLIEST <= value <= LATEST:
        raise ValueError("must be between 1900-01-01 and 2999-12-31 (UTC)")
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@lru_cache(maxsize=8192)
def _slug(value: str) -> str:
    slug = slugify(value)
    if slug != value:
        raise ValueError("must be lower-case words joined by hyphens")
    return value


_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def _url(value: str) -> str:
    return str(_HTTP_URL.validate_python(value))


def normalise_email(value: str) -> str:
    return value.strip().lower()


CountryCode = Annotated[
    str,
    Field(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2."),
    AfterValidator(_country),
]
CurrencyCode = Annotated[
    str,
    Field(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$", description="ISO 4217."),
    AfterValidator(_currency),
]
# The one e-mail rule, for every route and setting that takes an address (sign-up, both
# logins, invitations, partner contacts, FIRST_ADMIN_EMAIL): a deliverable-looking address
# (special-use domains such as .local and .test are refused; the demo data uses
# runwei.example), at most 254 characters, compared in lower case.
EMAIL_MAX = 254
Email = Annotated[EmailStr, Field(max_length=EMAIL_MAX), AfterValidator(normalise_email)]
EMAIL: TypeAdapter[str] = TypeAdapter(Email)
TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_timezone)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
Slug = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_slug)]
Url = Annotated[str, Field(max_length=2000), AfterValidator(_url)]
SlugList = Annotated[list[Slug], Field(max_length=30)]
ShortText = Annotated[str, Field(max_length=200)]
