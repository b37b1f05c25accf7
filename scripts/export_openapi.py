"""Write docs/openapi.json and docs/api-reference.md from the app's OpenAPI spec.

python scripts/export_openapi.py          # write both files
python scripts/export_openapi.py --check  # exit 1 when the committed files are stale
"""

from __future__ import annotations

import argparse
import json
import sys

from _common import ROOT

from app.core.config import Settings
from app.core.openapi_docs import render_markdown
from app.main import create_app

SPEC_PATH = ROOT / "docs" / "openapi.json"
REFERENCE_PATH = ROOT / "docs" / "api-reference.md"


def current_spec() -> dict[str, object]:
    # Fixed settings so the spec does not depend on the machine's environment.
    settings = Settings(_env_file=None, environment="development", app_name="RunWei API")
    return create_app(settings).openapi()


def rendered() -> tuple[str, str]:
    spec = current_spec()
    return json.dumps(spec, indent=2, sort_keys=False) + "\n", render_markdown(spec)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    spec_text, reference = rendered()
    if args.check:
        stale = [
            p.name
            for p, text in ((SPEC_PATH, spec_text), (REFERENCE_PATH, reference))
            if not p.exists() or p.read_text() != text
        ]
        if stale:
            print(f"stale: {', '.join(stale)}; run `make openapi`", file=sys.stderr)
            return 1
        return 0
    SPEC_PATH.parent.mkdir(exist_ok=True)
    SPEC_PATH.write_text(spec_text)
    REFERENCE_PATH.write_text(reference)
    print(f"wrote {SPEC_PATH.relative_to(ROOT)} and {REFERENCE_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
