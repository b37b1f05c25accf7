"""A saved search's query: validated by the very query model of its list (`OpportunityQuery`,
`EventQuery`: the same parameters, rules and error codes as `GET /opportunities`), then
compiled into a predicate (`spec`) the percolator evaluates in memory and the selective
terms (`keys`) it is indexed by.

A search is indexed under the terms of ONE filter every match must satisfy — the most
selective it has: its organisation, else its rarest free-text word, else its types, else its
industries/SDGs/tags/communities, else its country; a search with none of these (only
ranges, flags or a radius) is indexed under `<kind>|*` and checked against every item.
An item is looked up under all of its own terms, so candidates = the union of a handful of
index entries, never every saved search.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from app.core.exceptions import ValidationFailed
from app.models.catalogue import CatalogueItem
from app.models.event import Event
from app.models.opportunity import Opportunity
from app.models.reference import ReferenceKind
from app.models.saved_search import SearchKind
from app.schemas.event import EventQuery
from app.schemas.opportunity import OpportunityQuery
from app.services import reference
from app.utils.text import tokens

QUERY_MODELS: dict[SearchKind, type[BaseModel]] = {
    "opportunity": OpportunityQuery,
    "event": EventQuery,
}
# List parameters that are about a page of results, not about what matches.
NOT_SAVED = ("limit", "cursor", "include_total", "sort", "facets", "updated_since", "status")
COUNTRY_FIELD = {"opportunity": "eligibility.countries", "event": "venue.country"}
REGION_FIELD = {"opportunity": "eligibility.regions", "event": "venue.region"}
REFERENCES = (
    ("type", None),
    ("industries", ReferenceKind.industries),
    ("tags", ReferenceKind.tags),
    ("sdgs", ReferenceKind.sdgs),
    ("target_communities", ReferenceKind.target_communities),
)
TYPE_KIND = {"opportunity": ReferenceKind.opportunity_types, "event": ReferenceKind.event_types}
ANY_OF = ("type", "industries", "tags", "sdgs", "target_communities")


def _invalid(details: list[dict[str, Any]], code: str = "VALIDATION_ERROR") -> ValidationFailed:
    return ValidationFailed("The saved search's query is not valid.", code=code, details=details)


def parse(kind: SearchKind, params: dict[str, Any]) -> BaseModel:
    """The query validated by its list's model; 422 with the list's own codes."""
    refused = [name for name in NOT_SAVED if name in params]
    if refused:
        raise _invalid(
            [
                {
                    "loc": ["body", "query", name],
                    "msg": "not part of a saved search",
                    "type": "value_error",
                }
                for name in refused
            ],
            "INVALID_SAVED_QUERY",
        )
    try:
        return QUERY_MODELS[kind].model_validate(params)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        details: list[dict[str, Any]] = [
            {"loc": ["body", "query", *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in errors
        ]
        own = next((str(e["type"]) for e in errors if str(e["type"]).isupper()), None)
        raise _invalid(details, own or "VALIDATION_ERROR") from None


async def check_references(kind: SearchKind, query: BaseModel) -> None:
    """Each reference slug exists (422 UNKNOWN_REFERENCE, as on the list)."""
    for name, ref_kind in REFERENCES:
        values = getattr(query, name)
        if values:
            await reference.validate(ref_kind or TYPE_KIND[kind], values, f"query.{name}")


def stored_params(query: BaseModel) -> dict[str, Any]:
    """What the user asked for, as JSON (defaults left out)."""
    return query.model_dump(mode="json", exclude_defaults=True)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def compile_spec(kind: SearchKind, query: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if query.q:
        spec["q"] = sorted(set(tokens(query.q)))
    any_of = {name: sorted(set(getattr(query, name))) for name in ANY_OF if getattr(query, name)}
    if kind == "opportunity" and query.stages:
        any_of["eligibility.stages"] = sorted({s.value for s in query.stages})
    if kind == "event" and query.format:
        any_of["format"] = sorted({f.value for f in query.format})
    if any_of:
        spec["any"] = any_of
    if query.organisation:
        spec["organisation"] = query.organisation
    if query.country:
        spec["country"] = [COUNTRY_FIELD[kind], query.country]
    if query.region:
        spec["region"] = [REGION_FIELD[kind], query.region]
    if kind == "opportunity":
        for name in ("currency", "amount_min", "amount_max", "featured"):
            if getattr(query, name) is not None:
                spec[name] = getattr(query, name)
        if query.deadline_from or query.deadline_to:
            spec["range"] = ["deadline", _iso(query.deadline_from), _iso(query.deadline_to)]
    else:
        if query.city:
            spec["city"] = query.city
        if query.free is not None:
            spec["free"] = query.free
        if query.start_from or query.start_to:
            spec["range"] = ["start_at", _iso(query.start_from), _iso(query.start_to)]
        if query.near is not None:
            spec["near"] = list(query.near)
    if query.open_now:
        spec["open_now"] = True
    return spec


def search_keys(kind: SearchKind, spec: dict[str, Any]) -> list[str]:
    """The selective terms this search is indexed under (any one of them is on every item it
    matches)."""
    if "organisation" in spec:
        return [f"{kind}|org:{spec['organisation']}"]
    if spec.get("q"):
        rarest = max(spec["q"], key=lambda t: (len(t), t))  # long words are rarer
        return [f"{kind}|tok:{rarest}"]
    any_of: dict[str, list[str]] = spec.get("any", {})
    for name in (
        "type",
        "target_communities",
        "sdgs",
        "industries",
        "tags",
        "eligibility.stages",
        "format",
    ):
        if name in any_of:
            return [f"{kind}|{name}:{v}" for v in any_of[name]]
    if "country" in spec:
        return [f"{kind}|country:{spec['country'][1]}"]
    return [f"{kind}|*"]


def _values(item: dict[str, Any], path: str) -> list[Any]:
    value: Any = item
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple | set) else [value]


def item_keys(kind: SearchKind, item: dict[str, Any]) -> set[str]:
    """Every term an item can be found under (see `search_keys`)."""
    keys = {
        f"{kind}|*",
        f"{kind}|org:{item['organisation_id']}",
        f"{kind}|org:{item['organisation_slug']}",
    }
    keys |= {f"{kind}|tok:{t}" for t in item.get("search_tokens") or []}
    for name in (
        "type",
        "target_communities",
        "sdgs",
        "industries",
        "tags",
        "eligibility.stages",
        "format",
    ):
        keys |= {f"{kind}|{name}:{v}" for v in _values(item, name)}
    keys |= {f"{kind}|country:{c}" for c in _values(item, COUNTRY_FIELD[kind])}
    return keys


def item_fields(item: CatalogueItem) -> dict[str, Any]:
    """The fields the predicates read, as plain values (ids as strings)."""
    data = item.model_dump(
        include={
            "organisation_id", "organisation_slug", "search_tokens", "type", "industries", "tags",
            "sdgs", "target_communities", "eligibility", "venue", "format", "currency",
            "amount_min", "amount_max", "featured", "deadline", "deadline_sort", "start_at",
            "end_at", "registration_deadline", "price", "status",
        }
    )  # fmt: skip
    data["organisation_id"] = str(item.organisation_id)
    for name in ("eligibility", "venue"):
        value = data.get(name)
        if value is not None and not isinstance(value, dict):
            data[name] = dict(value)
    return data


KIND_OF: dict[type[CatalogueItem], SearchKind] = {Opportunity: "opportunity", Event: "event"}
