"""Geo helpers that work the same on any backend: bounding box + exact great-circle distance."""

from __future__ import annotations

import math
from typing import Any

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box_filter(
    lat_field: str, lng_field: str, lat: float, lng: float, radius_km: float
) -> dict[str, Any]:
    """A MongoDB filter for a box that contains the circle (a prefilter, not the answer)."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    lat_min, lat_max = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    cos_lat = math.cos(math.radians(max(abs(lat_min), abs(lat_max))))
    if cos_lat < 1e-9 or lat_min <= -90 or lat_max >= 90:
        return {lat_field: {"$gte": lat_min, "$lte": lat_max}}
    dlng = math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat))
    if dlng >= 180:
        return {lat_field: {"$gte": lat_min, "$lte": lat_max}}
    lng_min, lng_max = lng - dlng, lng + dlng
    box: dict[str, Any] = {lat_field: {"$gte": lat_min, "$lte": lat_max}}
    if lng_min < -180:  # crosses the antimeridian
        box["$or"] = [{lng_field: {"$gte": lng_min + 360}}, {lng_field: {"$lte": lng_max}}]
    elif lng_max > 180:
        box["$or"] = [{lng_field: {"$gte": lng_min}}, {lng_field: {"$lte": lng_max - 360}}]
    else:
        box[lng_field] = {"$gte": lng_min, "$lte": lng_max}
    return box
