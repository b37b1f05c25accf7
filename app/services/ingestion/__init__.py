"""Ingestion and bulk data, one job per module:

- `fetch`      polite, bounded, SSRF-guarded HTTP (robots.txt, conditional GET, size cap)
- `parsers/`   one per format: RSS/Atom, iCalendar, CSV, Grants.gov XML, JSON-LD pages
- `rows`       CSV and JSON Lines rows, streamed (imports and CSV sources)
- `mapping`    entry → create body, validated by the API's own create schemas
- `entries`    upsert by external id: create pending review, no-op, or revision
- `runs`       one source run: fetch, parse, map, upsert, report
- `sources`    the sources staff set up
- `dedupe`     duplicate suggestions in tiers; `merge` merges or dismisses them
- `linkcheck`  the scheduled freshness check of items' links
- `imports`, `exports`  bulk data for staff
"""
