"""Container HEALTHCHECK: exit 0 when /api/v1/health/live answers 200 on the local port."""

from __future__ import annotations

import os
import sys
import urllib.request

from app.serve import server_options


def main() -> int:
    port = server_options(os.environ)["port"]
    url = f"http://127.0.0.1:{port}/api/v1/health/live"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # nosec B310 - fixed local http URL
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
