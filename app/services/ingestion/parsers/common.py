"""What parsers share: the entry they yield, their context, dates, hardened XML."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse


class SourceRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Entry:
    """One entry of a source, in our vocabulary (`fields` uses create-body names; dates
    are aware datetimes). `problem` set: the entry is reported as skipped with it."""

    external_id: str
    url: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    problem: str | None = None


@dataclass(frozen=True)
class ParseContext:
    base_url: str
    timezone: str | None  # the source's default, for floating times and dates
    horizon_days: int = 365
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    budget_seconds: float = 60.0  # for expanding what a document implies (iCal recurrences)

    @property
    def zone(self) -> tzinfo:
        try:
            return ZoneInfo(self.timezone) if self.timezone else UTC
        except (ZoneInfoNotFoundError, ValueError):
            return UTC


def aware(value: datetime | date, zone: tzinfo, *, end_of_day: bool = False) -> datetime:
    """A date or (floating) datetime made time-zone aware in `zone`, then UTC."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59, 59) if end_of_day else time(0, 0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def iso_datetime(text: str, zone: tzinfo) -> datetime:
    """An ISO 8601 date or date-time (naive ones in `zone`); ValueError otherwise."""
    text = text.strip()
    if len(text) == 10:
        return aware(date.fromisoformat(text), zone)
    return aware(datetime.fromisoformat(text.replace("Z", "+00:00")), zone)


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def safe_iterparse(body: IO[bytes], events: tuple[str, ...]) -> Iterator[tuple[str, Element]]:
    """defusedxml's iterparse: any entity declaration or external reference refuses the
    document (entity expansion, XXE); a malformed one is refused too."""
    try:
        yield from iterparse(body, events=events, forbid_dtd=False, forbid_entities=True)
    except DefusedXmlException as exc:
        raise SourceRefused(
            "XML_REFUSED", f"XML with entity declarations or external references: {exc}"
        ) from exc
    except ParseError as exc:
        raise SourceRefused("XML_MALFORMED", f"malformed XML: {exc}") from exc


def check_xml(body: IO[bytes]) -> None:
    """Read the whole document with the hardened parser, keeping nothing: refuses entity
    tricks before a lenient parser (feedparser) sees the bytes. Malformed XML is let
    through (feedparser copes with real-world feeds), hostile XML is not."""
    body.seek(0)
    try:
        for _, element in safe_iterparse(body, ("end",)):
            element.clear()
    except SourceRefused as exc:
        if exc.code != "XML_MALFORMED":
            raise
    body.seek(0)
