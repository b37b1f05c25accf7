"""Fields computed from the others, in one place: search tokens, the organisation's name and
slug (denormalised for lists), and each kind's own (`kind.derived`, e.g. a deadline sort
key). Services, the demo data and ingestion all call `derive`; nothing re-implements it.
"""

from __future__ import annotations

from typing import Any

from app.models.base import utcnow
from app.models.catalogue import CatalogueItem
from app.models.organisation import Organisation
from app.services.catalogue.kinds import CatalogueKind, T
from app.utils import dedupe_keys
from app.utils.text import strip_html, token_set, tokens


def organisation_fields(org: Organisation) -> dict[str, Any]:
    """What an item keeps of its organisation."""
    return {"organisation_id": org.id, "organisation_name": org.name, "organisation_slug": org.slug}


def search_fields(kind: CatalogueKind[Any], item: CatalogueItem) -> dict[str, list[str]]:
    texts = [getattr(item, f, "") or "" for f in kind.text_fields]
    texts = [strip_html(t) if "<" in t else t for t in texts]
    tag_words = [t.replace("-", " ") for t in item.tags]
    return {
        "search_tokens": token_set([*texts, item.organisation_name, *tag_words]),
        "title_tokens": tokens(item.title),
    }


def dedupe_fields(kind: CatalogueKind[Any], item: CatalogueItem) -> dict[str, Any]:
    """The keys duplicate detection looks items up by (services/ingestion/dedupe.py)."""
    links = [getattr(item, kind.link_field, None) if kind.link_field else None]
    links.append(item.provenance.url if item.provenance else None)
    urls = {u for u in map(dedupe_keys.canonical_url, links) if u}
    when = getattr(item, kind.date_field, None) if kind.date_field else None
    signature = dedupe_keys.signature(strip_html(item.description) if item.description else "")
    return {
        "dedupe_urls": sorted(urls),
        "dedupe_date_key": dedupe_keys.day_key(kind.entity, when),
        "dedupe_bands": dedupe_keys.bands(signature),
        "dedupe_signature": dedupe_keys.encode(signature),
    }


def derive(
    kind: CatalogueKind[T], item: T, organisation: Organisation | None = None
) -> dict[str, Any]:
    """Every derived field of `item` (with `organisation`'s name when given), as a dict of
    changes; `item` itself is left as it is."""
    fields: dict[str, Any] = {}
    if organisation is not None:
        fields = organisation_fields(organisation)
        item = item.model_copy(update=fields)
    return {
        **fields,
        **search_fields(kind, item),
        **dedupe_fields(kind, item),
        **kind.derived(item),
    }


def derive_after(kind: CatalogueKind[T], item: T, changes: dict[str, Any]) -> dict[str, Any]:
    """The derived fields of `item` as it will be after `changes`."""
    return derive(kind, item.model_copy(update=changes))


def with_derived(kind: CatalogueKind[T], item: T, organisation: Organisation | None = None) -> T:
    """`item` with its derived fields filled in (for documents about to be inserted)."""
    return item.model_copy(update=derive(kind, item, organisation))


async def refresh_organisation(kind: CatalogueKind[T], org: Organisation) -> int:
    """Re-derive an organisation's items after it was renamed (name, slug, search tokens)."""
    changed = 0
    async for item in kind.model.find({"organisation_id": org.id}):
        fields = derive(kind, item, org)
        await kind.model.get_motor_collection().update_one(
            {"_id": item.id},
            {"$set": {**fields, "updated_at": utcnow()}},
        )
        await kind.announce(item.id, fields)
        changed += 1
    return changed
