"""Web pages carrying schema.org `Event` JSON-LD (extruct's JSON-LD extractor).

A page is someone else's file: each `<script type="application/ld+json">` is read on its
own (one broken or absurdly nested block is a skipped entry, the page's other blocks still
arrive), and nodes are walked without recursion, no deeper than `MAX_DEPTH` `@graph`s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

import lxml.etree
from extruct.jsonld import HTML_OR_JS_COMMENTLINE
from extruct.utils import parse_html

from app.services.ingestion.parsers.common import Entry, ParseContext, iso_datetime

ONLINE = "OnlineEventAttendanceMode"
MIXED = "MixedEventAttendanceMode"


MAX_DEPTH = 8
SCRIPTS = lxml.etree.XPath('descendant-or-self::script[@type="application/ld+json"]')


def _decode(script: str) -> Any:
    """One block's JSON (as extruct reads it: lenient on control characters, and once more
    without a leading HTML or JavaScript comment line); ValueError when it is not JSON."""
    try:
        return json.loads(script, strict=False)
    except ValueError:
        return json.loads(HTML_OR_JS_COMMENTLINE.sub("", script), strict=False)


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    """Nodes in document order: lists flattened, `@graph`s descended (bounded, iterative)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        if isinstance(value, list):
            stack.extend((item, depth + 1) for item in reversed(value))
        elif isinstance(value, dict):
            yield value
            if "@graph" in value:
                stack.append((value["@graph"], depth + 1))


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
        scripts = SCRIPTS(parse_html(html, encoding="UTF-8"))
    except (ValueError, lxml.etree.ParserError):  # empty or not HTML at all
        return
    for number, script in enumerate(scripts if isinstance(scripts, list) else [], start=1):
        try:
            found = _decode(str(script.xpath("string()")))
        except RecursionError:  # json's C decoder gives up at the interpreter's depth
            found, problem = [], "JSON-LD nested too deep"
        except ValueError:
            found, problem = [], "JSON-LD block is not JSON"
        else:
            problem = ""
        if problem:
            yield Entry(external_id=f"{context.base_url}#ld+json-{number}", problem=problem)
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
