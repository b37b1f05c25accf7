"""Shared by the scripts: import path and a real-database guard."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.core.config import Settings  # noqa: E402
from app.main import load_settings  # noqa: E402


def real_database_settings() -> Settings:
    settings = load_settings()
    if settings.mongodb_url is None:
        raise SystemExit(
            "MONGODB_URL is not set: the embedded database lives inside the server process, "
            "which prepares itself at start. Point MONGODB_URL at a real MongoDB to use this."
        )
    return settings
