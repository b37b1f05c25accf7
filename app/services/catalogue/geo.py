"""Items near a point, the same on MongoDB and the embedded backend (which has no `$near`):
a bounding-box query on plain lat/lng fields, refined by exact great-circle distance."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from app.services.catalogue.kinds import CatalogueKind, T
from app.utils.geo import bounding_box_filter, haversine_km

MAX_SCORED_MATCHES = 5000  # relevance and geo refine at most this many candidates in Python


def _point(doc: dict[str, Any], lat_field: str, lng_field: str) -> tuple[Any, Any]:
    holder = doc
    for part in lat_field.split(".")[:-1]:
        holder = holder.get(part) or {}
    return holder.get(lat_field.rsplit(".", 1)[-1]), holder.get(lng_field.rsplit(".", 1)[-1])


async def within_radius(
    kind: CatalogueKind[T],
    filters: dict[str, Any],
    near: tuple[float, float, float],
) -> dict[PydanticObjectId, float]:
    """The ids of the items matching `filters` within `near` (lat, lng, radius in km), each
    with its distance."""
    if kind.geo_fields is None:  # pragma: no cover - the query model offers near only then
        return {}
    lat, lng, radius = near
    lat_field, lng_field = kind.geo_fields
    box = bounding_box_filter(lat_field, lng_field, lat, lng, radius)
    query = {"$and": [filters, box]} if filters else box
    candidates = kind.model.get_motor_collection().find(query, {lat_field: 1, lng_field: 1})
    found: dict[PydanticObjectId, float] = {}
    async for doc in candidates.limit(MAX_SCORED_MATCHES):
        p_lat, p_lng = _point(doc, lat_field, lng_field)
        if p_lat is None or p_lng is None:
            continue
        distance = haversine_km(lat, lng, p_lat, p_lng)
        if distance <= radius:
            found[PydanticObjectId(doc["_id"])] = distance
    return found
