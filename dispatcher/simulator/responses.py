"""JSON in and out with orjson (the hot path reads and answers 1,000-item bodies)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status_code=status, headers=headers, media_type="application/json")


def parse_json(body: bytes) -> tuple[bool, Any]:
    """(True, value) for a JSON body, (False, None) for anything else."""
    try:
        return True, orjson.loads(body)
    except orjson.JSONDecodeError:
        return False, None
