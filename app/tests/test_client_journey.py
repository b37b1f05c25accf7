"""A TypeScript SPA client, generated from the committed spec, walks the user journey
against the app served by uvicorn: types by openapi-typescript (docs/openapi.json →
app/tests/client_journey/generated/api.d.ts), `tsc --noEmit` on app/tests/client_journey/journey.mts, then the
compiled script run by Node with openapi-fetch. A type error, an unexpected status or a
broken promise of the spec fails the build."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.tests.net import free_port

ROOT = Path(__file__).resolve().parents[2]
CLIENT = Path(__file__).resolve().parent / "client_journey"
NODE_BIN = ROOT / "node_modules" / ".bin"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")


def run(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own pinned tools
        [str(a) for a in args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def compiled_client() -> Path:
    """Types from the committed spec, type-checked, compiled: the script to run."""
    assert (NODE_BIN / "tsc").exists(), "run `npm ci` (make test does)"
    generated = run(
        NODE_BIN / "openapi-typescript",
        "docs/openapi.json",
        "--output",
        CLIENT / "generated" / "api.d.ts",
        # Request fields with a default stay optional (responses mark what is always sent).
        "--default-non-nullable=false",
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    checked = run(NODE_BIN / "tsc", "-p", CLIENT, "--noEmit")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    shutil.rmtree(CLIENT / "dist", ignore_errors=True)
    built = run(NODE_BIN / "tsc", "-p", CLIENT)
    assert built.returncode == 0, built.stdout + built.stderr
    return CLIENT / "dist" / "journey.mjs"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The app as `make run` serves it (embedded database, demo data), on a free port."""
    port = free_port()
    workdir = tmp_path_factory.mktemp("journey")
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "STORAGE_LOCAL_DIR": str(workdir / "media"),
        "SEED_DEMO_DATA": "true",
        "LOG_LEVEL": "WARNING",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        # Cheaper argon2 than production, same code path (as the other tests).
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "PASSWORD_HASH_ROUNDS": "1",
    }
    for name in ("MONGODB_URL", "REDIS_URL", "SMTP_HOST", "FIRST_ADMIN_EMAIL"):
        env.pop(name, None)
    log_path = workdir / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own venv's uvicorn
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--no-proxy-headers",
            ],
            cwd=workdir,  # no .env from the repository
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the server exited:\n{log_path.read_text()[-4000:]}")
                try:
                    if httpx.get(f"{base}/api/v1/health/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not start:\n{log_path.read_text()[-4000:]}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def test_typescript_client_journey(compiled_client: Path, server: str) -> None:
    result = run("node", compiled_client, server, timeout=180)
    print(result.stdout)  # the steps, in the test log  # noqa: T201
    assert result.returncode == 0, result.stdout + result.stderr
    assert "journey complete" in result.stdout
    for step in ("register", "verify", "If-Match", "search", "save", "RSVP", "two tabs", "logout"):
        assert step in result.stdout, result.stdout
