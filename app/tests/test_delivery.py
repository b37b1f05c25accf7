"""Static checks of what cannot run here (no Docker engine): the Dockerfile, compose file,
workflows and the OpenAPI spec a SPA toolchain consumes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from app.serve import server_options

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed tool paths from our own venv
        [str(a) for a in args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_hadolint_passes() -> None:
    result = run(BIN / "hadolint", "--failure-threshold", "info", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_match_github_schema() -> None:
    assert {p.name for p in WORKFLOWS} >= {"test.yml", "security.yml", "main.yml"}
    result = run(
        BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *WORKFLOWS
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_matches_compose_spec() -> None:
    result = run(
        BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", "docker-compose.yml"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_no_findings_medium_or_above() -> None:
    result = run(BIN / "zizmor", "--offline", "--min-severity", "medium", ".github/workflows")
    assert result.returncode == 0, result.stdout + result.stderr


def test_actions_pinned_to_full_sha() -> None:
    for workflow in WORKFLOWS:
        for ref in re.findall(r"uses:\s*(\S+)", workflow.read_text()):
            if ref.startswith("./"):
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{workflow.name}: {ref}"


def test_deploy_workflow_shape() -> None:
    deploy = yaml.safe_load((ROOT / ".github/workflows/main.yml").read_text())
    assert deploy["permissions"] == {}
    assert deploy["concurrency"]["cancel-in-progress"] is False
    job = deploy["jobs"]["build-and-deploy"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    text = (ROOT / ".github/workflows/main.yml").read_text()
    assert "secrets." not in text  # OIDC federation: no long-lived credentials
    assert "--slot staging" in text
    assert "slot swap" in text
    assert "/api/v1/health/ready" in text


def _dockerfile() -> dict[str, list[str]]:
    instructions: dict[str, list[str]] = {}
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.setdefault(keyword.upper(), []).append(rest.strip())
    return instructions


def test_image_start_command_and_port_match_the_app(app) -> None:
    docker = _dockerfile()
    cmd = json.loads(docker["CMD"][-1])
    assert cmd == ["python", "-m", "app.serve"]
    exposed = int(docker["EXPOSE"][-1])
    env_line = " ".join(docker["ENV"])
    port = int(re.search(r"\bPORT=(\d+)", env_line).group(1))
    assert port == exposed
    assert server_options({"PORT": str(port)})["port"] == exposed
    assert server_options({"WEBSITES_PORT": "9000"})["port"] == 9000  # App Service's variable
    assert server_options({})["proxy_headers"] is False  # the app owns X-Forwarded-For
    healthcheck = docker["HEALTHCHECK"][-1]
    assert '"app.healthcheck"' in healthcheck
    assert "/api/v1/health/live" in app.openapi()["paths"]
    assert docker["USER"][-1].split(":")[0] != "0"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["api"]["ports"] == [f"{exposed}:{exposed}"]


def test_dockerignore_keeps_out_secrets_and_tests() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".env", "app/tests", "node_modules", "var"):
        assert entry in ignored


def test_committed_openapi_is_current() -> None:
    result = run(sys.executable, "scripts/export_openapi.py", "--check")
    assert result.returncode == 0, result.stderr


def test_operation_ids_unique_and_errors_documented(app) -> None:
    spec = app.openapi()
    ids = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            ids.append(op["operationId"])
            assert re.fullmatch(r"[a-z][a-z0-9_]*", op["operationId"]), op["operationId"]
            for code, response in op["responses"].items():
                if int(code) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, code)
            assert "500" in op["responses"], (path, method)
    assert len(ids) == len(set(ids))


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_openapi_typescript_accepts_the_spec(tmp_path: Path) -> None:
    tool = ROOT / "node_modules" / ".bin" / "openapi-typescript"
    assert tool.exists(), "run `npm ci` (make test does)"
    out = tmp_path / "api.d.ts"
    result = run(tool, "docs/openapi.json", "--output", out)
    assert result.returncode == 0, result.stdout + result.stderr
    text = out.read_text()
    assert "admin_users_list" in text
    assert "ErrorResponse" in text


def test_bandit_finds_nothing_medium_or_above() -> None:
    """The same scan security.yml runs (pip-audit needs PyPI's advisory API: CI only)."""
    result = run(
        BIN / "bandit",
        "-q",
        "--recursive",
        "app",
        "--exclude",
        "app/tests",
        "--severity-level",
        "medium",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_setting_is_documented() -> None:
    """README's configuration table and .env.example list every Settings field."""
    from app.core.config import Settings

    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    example_keys = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    for name in Settings.model_fields:
        env = name.upper()
        assert f"`{env}`" in readme, f"{env} missing from the README table"
        assert env in example_keys, f"{env} missing from .env.example"


def test_mongodb_job_runs_the_whole_suite_on_its_server() -> None:
    """CI's `mongodb` job runs every test (no marker or path filter) with MONGODB_URL set,
    so each test's app gets a fresh database on the `mongo` service."""
    workflow = yaml.safe_load((ROOT / ".github/workflows/test.yml").read_text())
    job = workflow["jobs"]["mongodb"]
    assert "mongo" in job["services"]
    assert job["env"]["MONGODB_URL"].startswith("mongodb://")
    commands = [step["run"] for step in job["steps"] if "pytest" in step.get("run", "")]
    assert len(commands) == 1
    args = commands[0].split()
    assert args[0].endswith("pytest")
    assert "-m" not in args
    assert not any(a.startswith("app/") for a in args)
    assert "npm ci" in " ".join(step.get("run", "") for step in job["steps"])  # Azurite
