"""Spectral on the committed spec (docs/openapi.json): `spectral:oas` with zero errors and
zero warnings, and the OWASP API Security ruleset as configured in `.spectral.yaml` (every
rule switched off there says why) with zero findings of any severity."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPECTRAL = ROOT / "node_modules" / ".bin" / "spectral"
SPEC = ROOT / "docs" / "openapi.json"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")


def lint(spec: Path, ruleset: Path, out: Path) -> list[dict[str, Any]]:
    assert SPECTRAL.exists(), "run `npm ci` (make test does)"
    result = subprocess.run(  # noqa: S603 - our own pinned npm binary
        [
            str(SPECTRAL),
            "lint",
            str(spec),
            "--ruleset",
            str(ruleset),
            "--format",
            "json",
            "--output",
            str(out),
            "--fail-severity",
            "hint",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.exists(), result.stdout + result.stderr
    findings: list[dict[str, Any]] = json.loads(out.read_text() or "[]")
    assert (result.returncode == 0) == (not findings), result.stdout + result.stderr
    return findings


def summary(findings: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{f['code']} ({f['severity']}) {'.'.join(map(str, f['path']))}: {f['message']}"
        for f in findings[:40]
    )


def test_spectral_oas_has_no_errors_or_warnings(tmp_path: Path) -> None:
    ruleset = tmp_path / "oas.yaml"
    ruleset.write_text('extends: ["spectral:oas"]\n')
    findings = lint(SPEC, ruleset, tmp_path / "oas.json")
    assert not findings, summary(findings)


def test_committed_ruleset_has_no_findings(tmp_path: Path) -> None:
    findings = lint(SPEC, ROOT / ".spectral.yaml", tmp_path / "all.json")
    assert not findings, summary(findings)


def test_input_limit_rules_bite(tmp_path: Path) -> None:
    """The rules that replace OWASP's limits on inputs really flag unbounded inputs."""
    spec = json.loads(SPEC.read_text())
    schemas = spec["components"]["schemas"]
    del schemas["UserCreate"]["properties"]["full_name"]["maxLength"]
    del schemas["RejectRequest"]["properties"]["reason"]["maxLength"]
    params = spec["paths"]["/api/v1/opportunities"]["get"]["parameters"]
    limit = next(p for p in params if p["name"] == "limit")
    del limit["schema"]["maximum"]
    tags = next(p for p in params if p["name"] == "tags")
    del tags["schema"]["maxItems"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(spec))
    findings = lint(broken, ROOT / ".spectral.yaml", tmp_path / "broken-out.json")
    # (The copy is not docs/openapi.json, so `.spectral.yaml`'s per-path overrides do not
    # apply to it: only the input rules' findings are looked at.)
    codes = {f["code"] for f in findings if f["code"].startswith("runwei-")}
    assert codes == {
        "runwei-input-string-limit",
        "runwei-input-number-limit",
        "runwei-input-array-limit",
    }, summary(findings)
    assert len([f for f in findings if f["code"] == "runwei-input-string-limit"]) >= 2
