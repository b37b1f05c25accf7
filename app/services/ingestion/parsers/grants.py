"""The Grants.gov XML extract: `OpportunitySynopsisDetail_1_0` records, streamed with the
hardened iterparse and cleared as they are read — never the whole document in memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from app.services.ingestion.parsers.common import (
    Entry,
    ParseContext,
    aware,
    local,
    safe_iterparse,
)

RECORD = "OpportunitySynopsisDetail_1_0"
DETAIL_URL = "https://www.grants.gov/search-results-detail/{id}"


def parse(body: IO[bytes], context: ParseContext) -> Iterator[Entry]:
    root = None
    for event, element in safe_iterparse(body, ("start", "end")):
        if event == "start":
            if root is None:
                root = element
            continue
        if local(element.tag) != RECORD:
            continue
        record = {local(child.tag): (child.text or "").strip() for child in element}
        element.clear()
        if root is not None:
            root.clear()  # drop the records already read from the root, too
        yield _entry(record, context)


def _date(value: str) -> date:
    """Grants.gov dates are MMDDYYYY."""
    if len(value) != 8 or not value.isdigit():
        raise ValueError(value)
    return date(int(value[4:]), int(value[:2]), int(value[2:4]))


def _cents(value: str) -> int | None:
    """Dollars as written in the extract ("150000", "1,500.50") → cents; 0/blank → None."""
    try:
        amount = Decimal(value.replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        return None
    return int(amount * 100) if amount > 0 else None


def _entry(record: dict[str, str], context: ParseContext) -> Entry:
    key = record.get("OpportunityID") or record.get("OpportunityNumber") or ""
    if not key:
        return Entry(external_id="unknown", problem="no OpportunityID")
    url = record.get("AdditionalInformationURL") or DETAIL_URL.format(id=key)
    fields: dict[str, Any] = {
        "title": record.get("OpportunityTitle", ""),
        "description": record.get("Description", ""),
        "application_url": url,
        "currency": "USD",
    }
    low, high = _cents(record.get("AwardFloor", "")), _cents(record.get("AwardCeiling", ""))
    if low is not None and high is not None and low > high:
        low = None
    fields["amount_min"], fields["amount_max"] = low, high
    close = record.get("CloseDate", "")
    if close:
        try:
            fields["deadline"] = aware(_date(close), context.zone, end_of_day=True)
        except ValueError:
            return Entry(external_id=key, url=url, problem=f"CloseDate {close!r} is not MMDDYYYY")
    else:
        fields["rolling"] = True
    agency = record.get("AgencyName")
    number = record.get("OpportunityNumber")
    if agency or number:
        fields["summary"] = " · ".join(p for p in (agency, number) if p)
    criteria = record.get("AdditionalInformationOnEligibility")
    if criteria:
        fields["eligibility"] = {"criteria": criteria[:5000]}
    categories = [record[k] for k in ("CategoryOfFundingActivity",) if record.get(k)]
    return Entry(external_id=key, url=url, fields=fields, categories=categories)
