"""Assert a refusal by what it says, not only by its status."""

from __future__ import annotations

from typing import Any

from httpx import Response


def assert_error(response: Response, status: int, code: str) -> dict[str, Any]:
    """`response` is an error in the common shape with this status and code; its body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"]["code"] == code, body
    return body
