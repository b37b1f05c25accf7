"""Query parameters every catalogue list shares: q, sort, status, updated_since, facets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

from app.models.catalogue import ItemStatus
from app.schemas.validators import UtcDatetime
from app.services.catalogue import ListQuery


def split_values(values: list[str] | None) -> list[str]:
    """Accept both `?tags=a&tags=b` and `?tags=a,b`."""
    out: list[str] = []
    for value in values or []:
        out += [v.strip() for v in value.split(",") if v.strip()]
    return out


@dataclass
class CommonList:
    q: str | None
    sort: str | None
    status: ItemStatus | None
    updated_since: UtcDatetime | None
    facets: list[str]

    def to_query(self) -> ListQuery:
        return ListQuery(
            clauses=[],
            q=self.q,
            sort=self.sort,
            status=self.status,
            updated_since=self.updated_since,
            facets=self.facets,
        )


async def common_list(
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Free text; accent- and case-insensitive."),
    ] = None,
    sort: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[
        ItemStatus | None,
        Query(
            description="Default published. Other statuses: staff, or your own organisations' items."
        ),
    ] = None,
    updated_since: Annotated[
        UtcDatetime | None,
        Query(description="Changed after this time, including items that left the public set."),
    ] = None,
    facets: Annotated[
        str | None, Query(max_length=200, description="e.g. type,industries,country,sdgs")
    ] = None,
) -> CommonList:
    return CommonList(q, sort, status, updated_since, split_values([facets] if facets else None))
