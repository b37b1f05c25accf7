"""HTTP-level helpers for endpoints: ETag / If-Match / If-None-Match."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header, Request, Response

from app.core.exceptions import PreconditionFailed

_ETAG = re.compile(r'^(?:W/)?"(\d{1,12})"$')


def etag_for(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_for(version)


def no_store(response: Response) -> None:
    """Responses carrying credentials (token pairs) must not be stored by any cache."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


def set_created(response: Response, location: str, version: int | None = None) -> None:
    """A 201's `Location` (and `ETag` when the resource is versioned)."""
    response.headers["Location"] = location
    if version is not None:
        set_etag(response, version)


async def if_match_version(
    if_match: Annotated[
        str | None,
        Header(
            max_length=64,
            description='ETag from a read, e.g. "3"; a stale one is answered with 412.',
        ),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match.strip())
    if not match:
        raise PreconditionFailed("If-Match must be an ETag from a read.", code="INVALID_IF_MATCH")
    return int(match.group(1))


def not_modified(request: Request, etag: str) -> bool:
    candidates = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    return etag in candidates or "*" in candidates
