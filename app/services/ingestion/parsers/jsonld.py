"""Web pages carrying schema.org `Event` JSON-LD (extruct's JSON-LD extractor)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from extruct.jsonld import JsonLdExtractor

from app.services.ingestion.parsers.common import Entry, ParseContext, iso_datetime

ONLINE = "OnlineEventAttendanceMode"
MIXED = "MixedEventAttendanceMode"


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _nodes(data["@graph"])


def _is_event(node: dict[str, Any]) -> bool:
    types = node.get("@type")
    names = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and t.endswith("Event") for t in names)


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    return str(value or "").strip()


def parse(body: IO[bytes], context: ParseContext) -> Iterator[Entry]:
    html = body.read().decode("utf-8", errors="replace")
    try:
        found = JsonLdExtractor().extract(html, base_url=context.base_url)
    except ValueError:
        found = []
    for node in _nodes(found):
        if _is_event(node):
            yield _entry(node, context)


def _entry(node: dict[str, Any], context: ParseContext) -> Entry:
    url = _text(node.get("url")) or None
    start = _text(node.get("startDate"))
    key = (
        _text(node.get("@id"))
        or _text(node.get("identifier"))
        or f"{url or context.base_url}@{start}"
    )
    if not start:
        return Entry(external_id=key, url=url, problem="no startDate")
    zone = context.zone
    try:
        begins = iso_datetime(start, zone)
        ends = iso_datetime(_text(node.get("endDate")) or start, zone)
    except ValueError:
        return Entry(external_id=key, url=url, problem=f"startDate/endDate not ISO 8601: {start!r}")
    if ends <= begins:
        ends = begins.replace(hour=23, minute=59) if ends == begins else ends
    fields: dict[str, Any] = {
        "title": _text(node.get("name")),
        "description": _text(node.get("description")),
        "start_at": begins,
        "end_at": ends,
    }
    mode = _text(node.get("eventAttendanceMode"))
    location = node.get("location")
    places = location if isinstance(location, list) else [location] if location else []
    for place in places:
        if not isinstance(place, dict):
            continue
        if str(place.get("@type", "")).startswith("Virtual"):
            fields["online_url"] = _text(place.get("url")) or None
            continue
        address = place.get("address")
        venue: dict[str, Any] = {"name": _text(place.get("name"))[:200] or None}
        if isinstance(address, dict):
            venue["address"] = _text(address.get("streetAddress"))[:500] or None
            venue["city"] = _text(address.get("addressLocality"))[:120] or None
            venue["region"] = _text(address.get("addressRegion"))[:120] or None
            country = _text(address.get("addressCountry"))
            venue["country"] = country.upper() if len(country) == 2 else None
        elif isinstance(address, str):
            venue["address"] = address[:500]
        fields["venue"] = {k: v for k, v in venue.items() if v}
    fields["format"] = (
        "online" if mode.endswith(ONLINE) else "hybrid" if mode.endswith(MIXED) else None
    )
    offers = node.get("offers")
    offer = offers[0] if isinstance(offers, list) and offers else offers
    if isinstance(offer, dict):
        fields["price_text"] = _text(offer.get("price"))
        fields["currency"] = _text(offer.get("priceCurrency")) or None
    return Entry(external_id=key, url=url, fields=fields)
