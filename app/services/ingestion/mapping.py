"""From an entry to a create body, validated exactly as the API validates one.

Ingestion maps what a format says into our vocabulary (titles as plain text, categories to
tag slugs — mapped or reported —, the source's defaults, amounts in minor units, dates
time-zone aware), then validates with the API's own create schemas (`OpportunityCreate`,
`EventCreate`); the rule function, reference slugs and HTML sanitising follow in
`catalogue.edit.prepare`, the same path a create request takes.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ValidationError

from app.core.exceptions import ValidationFailed
from app.models.ingestion import Source, SourceDefaults, TargetKind
from app.models.reference import ReferenceKind
from app.schemas.event import EventCreate
from app.schemas.opportunity import OpportunityCreate
from app.services.ingestion.parsers import Entry
from app.services.reference import ActiveSlugs
from app.utils.text import fold, slugify, strip_html

SCHEMAS: dict[TargetKind, type[BaseModel]] = {
    "opportunity": OpportunityCreate,
    "event": EventCreate,
}
TITLE_MAX, SUMMARY_MAX, DESCRIPTION_MAX = 200, 500, 50000
LISTS = ("tags", "industries", "sdgs", "target_communities")


class Refused(Exception):
    """The entry cannot become an item: (field, message) for each problem."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in problems))
        self.problems = problems


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _plain_text(value: Any, limit: int) -> str:
    text = str(value or "")
    return _short(strip_html(text) if "<" in text or "&" in text else " ".join(text.split()), limit)


def _price(text: str | None) -> int | None:
    if not text:
        return None
    if fold(text) in ("free", "gratis"):
        return 0
    try:
        amount = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        return None
    return int(amount * 100) if amount >= 0 else None


def map_categories(
    categories: list[str], defaults: SourceDefaults, refs: ActiveSlugs
) -> tuple[list[str], list[str]]:
    """(tag slugs, categories we could not map): the source's map first, then a tag whose
    slug matches the category."""
    tags: list[str] = []
    unmapped: list[str] = []
    for category in categories:
        slug = defaults.category_map.get(" ".join(fold(category).split())) or slugify(category)
        if refs.has(ReferenceKind.tags, slug):
            tags.append(slug)
        else:
            unmapped.append(category)
    return tags, unmapped


def entry_body(
    target: TargetKind, entry: Entry, source: Source, refs: ActiveSlugs
) -> tuple[dict[str, Any], list[str]]:
    """The create body of a source's entry, and notes (unmapped categories)."""
    defaults = source.defaults
    raw = dict(entry.fields)
    raw.pop("published", None)
    price_text = raw.pop("price_text", None)
    body: dict[str, Any] = {k: v for k, v in raw.items() if v is not None}
    body["title"] = _plain_text(raw.get("title"), TITLE_MAX)
    body["description"] = _short(str(raw.get("description") or ""), DESCRIPTION_MAX)
    body["organisation_id"] = str(source.organisation_id)
    if defaults.type and not body.get("type"):
        body["type"] = defaults.type
    tags, unmapped = map_categories(entry.categories, defaults, refs)
    for name in LISTS:
        given = list(body.get(name) or [])
        extra = tags if name == "tags" else []
        body[name] = list(dict.fromkeys([*getattr(defaults, name), *given, *extra]))
    if target == "opportunity":
        body["summary"] = _plain_text(raw.get("summary") or raw.get("description"), 300)
        amounts = body.get("amount_min") is not None or body.get("amount_max") is not None
        if defaults.currency and amounts and not body.get("currency"):
            body["currency"] = defaults.currency
        if defaults.country:
            eligibility = dict(body.get("eligibility") or {})
            eligibility.setdefault("countries", [defaults.country])
            body["eligibility"] = eligibility
    else:
        body.setdefault("timezone", defaults.timezone or "UTC")
        venue = body.get("venue")
        if venue and defaults.country:
            body["venue"] = {"country": defaults.country, **venue}
        if not body.get("format"):
            fallback = "online" if body.get("online_url") and not venue else "in_person"
            body["format"] = defaults.format or fallback
        price = _price(price_text)
        if price:
            body["price"] = price
            body.setdefault("currency", defaults.currency)
    notes = [f"unmapped category {c!r}" for c in unmapped]
    return body, notes


def validate_body(target: TargetKind, body: dict[str, Any]) -> dict[str, Any]:
    """The body as the API's create schema validates it (its fields, with defaults)."""
    try:
        return SCHEMAS[target].model_validate(body).model_dump()
    except ValidationError as exc:
        raise Refused(
            [(".".join(str(p) for p in e["loc"]), str(e["msg"])) for e in exc.errors()]
        ) from None


def refusal(exc: ValidationFailed) -> Refused:
    """A service's 422 (rules, references) as an entry's problems."""
    problems = []
    for detail in exc.details or []:
        loc = [str(p) for p in detail.get("loc", []) if p != "body"]
        problems.append((".".join(loc), str(detail.get("msg", exc.message))))
    return Refused(problems or [("", exc.message)])
