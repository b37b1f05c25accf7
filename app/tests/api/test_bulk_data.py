"""Bulk data for staff: imports (dry run report, idempotent confirmed import, streamed)
and exports (the list filters, CSV neutralised against formulas, JSON Lines)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.tests.errors import assert_error
from app.tests.factories import make_event, make_opportunity, make_org
from app.tests.ingest.helpers import API, OVERRIDES, items

HEADER = "external_id,title,type,amount_min,amount_max,currency,deadline,tags,eligibility.countries,organisation_id"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(OVERRIDES)


def _csv(org_id: str) -> bytes:
    rows = [
        HEADER,
        f"imp-1,Seed Grant for Makers,grant,100000,200000,USD,2099-05-01T00:00:00Z,funding;climate,KE;TZ,{org_id}",
        f"imp-2,Angel Matching,equity,,,,2099-06-01T00:00:00+03:00,,,{org_id}",
        f"imp-3,No,grant,,,,,,,{org_id}",  # title too short
        f"imp-4,Bad Amounts,grant,900,100,USD,not-a-date,unknown-tag,,{org_id}",
        "imp-5,Someone Else's,grant,,,,,,,64b7f0c2a1b2c3d4e5f60718",
        f'imp-6,"=HYPERLINK(""http://evil.example"")",grant,,,,,,,{org_id}',
    ]
    return ("\n".join(rows) + "\n").encode()


async def _import(client, who, content: bytes, name: str = "rows.csv", **params):
    return await client.post(
        f"{API}/admin/imports",
        headers=who.headers,
        params={"kind": "opportunity", **params},
        files={"file": (name, content, "text/csv")},
    )


async def test_dry_run_reports_row_by_row_and_writes_nothing(client, staff) -> None:
    org = await make_org(client, staff)
    response = await _import(client, staff, _csv(org["id"]))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True
    assert (report["rows"], report["valid"], report["invalid"], report["created"]) == (6, 3, 3, 0)
    problems = {(p["line"], p["field"]) for p in report["problems"]}
    assert (4, "title") in problems
    assert (5, "deadline") in problems
    assert (6, "organisation_id") in problems
    assert await items(client, staff, "opportunities") == []


async def test_confirmed_import_is_idempotent(client, staff, partner) -> None:
    org = await make_org(client, staff)
    content = _csv(org["id"])
    first = (await _import(client, staff, content, dry_run="false")).json()
    assert (first["created"], first["invalid"], first["unchanged"]) == (3, 3, 0)
    created = {i["title"]: i for i in await items(client, staff, "opportunities")}
    assert set(created) == {
        "Seed Grant for Makers",
        "Angel Matching",
        '=HYPERLINK("http://evil.example")',
    }
    grant = created["Seed Grant for Makers"]
    assert grant["status"] == "pending_review"
    assert grant["tags"] == ["funding", "climate"]
    assert grant["eligibility"]["countries"] == ["KE", "TZ"]
    again = (await _import(client, staff, content, dry_run="false")).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert len(await items(client, staff, "opportunities")) == 3
    changed = content.replace(b"Seed Grant for Makers", b"Seed Grant for Makers 2099")
    third = (await _import(client, staff, changed, dry_run="false")).json()
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 1, 2)
    assert_error(await _import(client, partner, content), 403, "INSUFFICIENT_ROLE")


async def test_json_lines_and_refusals(client, staff) -> None:
    org = await make_org(client, staff)
    lines = [
        {"title": "Networking Breakfast", "type": "networking", "organisation_id": org["id"],
         "start_at": "2099-01-10T07:00:00Z", "end_at": "2099-01-10T09:00:00Z",
         "timezone": "Africa/Nairobi", "format": "online"},
        {"title": "Ends before it starts", "type": "workshop", "organisation_id": org["id"],
         "start_at": "2099-01-10T07:00:00Z", "end_at": "2099-01-09T09:00:00Z",
         "timezone": "Africa/Nairobi", "format": "online"},
        {"title": "Unknown field", "colour": "red"},
    ]  # fmt: skip
    content = "\n".join(json.dumps(line) for line in lines) + "\n{not json\n[1, 2]\n"
    response = await client.post(
        f"{API}/admin/imports",
        headers=staff.headers,
        params={"kind": "event", "dry_run": "false"},
        files={"file": ("events.jsonl", content.encode(), "application/x-ndjson")},
    )
    report = response.json()
    assert (report["rows"], report["created"], report["invalid"]) == (5, 1, 4), report
    errors = {p["line"]: p for p in report["problems"]}
    assert "end_at must be after start_at" in errors[2]["error"]
    assert errors[4]["error"].startswith("not JSON")
    assert errors[5]["error"] == "each line must be a JSON object"
    unknown = await client.post(
        f"{API}/admin/imports", headers=staff.headers, params={"kind": "event"},
        files={"file": ("events.txt", b"x", "text/plain")},
    )  # fmt: skip
    assert_error(unknown, 422, "IMPORT_FORMAT_UNKNOWN")
    missing = await client.post(
        f"{API}/admin/imports", headers=staff.headers, params={"kind": "event"},
        files={"other": ("x.csv", b"x", "text/csv")},
    )  # fmt: skip
    assert_error(missing, 422, "INVALID_MULTIPART")


class TestImportLimit:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, object]:
        return {**OVERRIDES, "import_max_bytes": 2048}

    async def test_a_file_over_the_limit_is_refused_while_streaming(self, client, staff) -> None:
        org = await make_org(client, staff)
        big = _csv(org["id"]) * 50
        assert_error(await _import(client, staff, big), 413, "FILE_TOO_LARGE")


async def test_exports_stream_the_list_filters(client, staff, partner) -> None:
    org = await make_org(client, partner)
    await make_opportunity(client, partner, org["id"], title="=cmd|' /C calc'!A0", publish_as=staff)
    await make_opportunity(
        client, partner, org["id"], title="Plain grant", publish_as=staff, type="loan"
    )
    await make_opportunity(client, partner, org["id"], title="Still a draft")
    response = await client.get(f"{API}/admin/exports/opportunities.csv", headers=staff.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(r["title"] for r in rows) == ["'=cmd|' /C calc'!A0", "Plain grant"]
    assert rows[0]["organisation_id"] == org["id"]
    assert rows[0]["tags"] == "funding"
    loans = await client.get(
        f"{API}/admin/exports/opportunities.csv", headers=staff.headers, params={"type": "loan"}
    )
    assert [r["title"] for r in csv.DictReader(io.StringIO(loans.text))] == ["Plain grant"]
    drafts = await client.get(
        f"{API}/admin/exports/opportunities.jsonl",
        headers=staff.headers,
        params={"status": "draft"},
    )
    [draft] = [json.loads(line) for line in drafts.text.splitlines()]
    assert draft["title"] == "Still a draft"
    assert draft["eligibility"]["countries"] == []
    assert draft["created_at"].endswith("Z")
    assert_error(
        await client.get(
            f"{API}/admin/exports/opportunities.csv", headers=staff.headers, params={"limit": 5}
        ),
        422,
        "INVALID_QUERY",
    )
    assert_error(
        await client.get(
            f"{API}/admin/exports/opportunities.csv", headers=staff.headers, params={"tags": "nope"}
        ),
        422,
        "UNKNOWN_REFERENCE",
    )
    assert_error(
        await client.get(f"{API}/admin/exports/events.csv", headers=partner.headers),
        403,
        "INSUFFICIENT_ROLE",
    )


async def test_an_export_imports_back(client, staff, partner) -> None:
    org = await make_org(client, partner)
    event = await make_event(client, partner, org["id"], title="Round trip", publish_as=staff)
    exported = await client.get(f"{API}/admin/exports/events.csv", headers=staff.headers)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["venue.city"] == "Nairobi"
    assert rows[0]["id"] == event["id"]
    # one datetime format everywhere: CSV cells as the JSON API writes them (UTC, `Z`)
    assert rows[0]["start_at"] == event["start_at"]
    assert rows[0]["created_at"].endswith("Z")
    report = await client.post(
        f"{API}/admin/imports", headers=staff.headers, params={"kind": "event", "dry_run": "false"},
        files={"file": ("events.csv", exported.content, "text/csv")},
    )  # fmt: skip
    body = report.json()
    assert (body["created"], body["invalid"]) == (1, 0), body["problems"]
    copies = await items(client, staff, "events")
    assert [(c["title"], c["start_at"]) for c in copies] == [("Round trip", event["start_at"])]
    assert copies[0]["slug"] != event["slug"]


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("title,title.x,type", "column 'title.x' twice (or inside another column)"),
        ("venue.city,venue,title", "column 'venue' twice (or inside another column)"),
        ("title,type,title", "column 'title' twice (or inside another column)"),
        (".".join(["a"] * 100_000) + ",title", "not a field name"),
        ("venue..city,title", "column 'venue..city': not a field name"),
    ],
    ids=["leaf-then-parent", "parent-then-leaf", "twice", "deep", "empty-part"],
)
async def test_a_header_no_row_fits_is_one_clear_problem(client, staff, header, why) -> None:
    """A column that is also another's parent (`title` and `title.x`) crashed the import
    (500: a string cannot hold a field), a header dotted 100 000 deep too (RecursionError);
    a column given twice silently kept the last cell. Each is now the file's one problem."""
    org = await make_org(client, staff)
    cells = ",".join(["x"] * (header.count(",") + 1))
    content = f"{header},organisation_id\n{cells},{org['id']}\n".encode()
    response = await _import(client, staff, content, kind="event", dry_run="false")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["invalid"], report["created"]) == (1, 1, 0), report
    [problem] = report["problems"]
    assert problem["line"] == 1
    assert problem["error"].startswith("unreadable header: ")
    assert why in problem["error"]
