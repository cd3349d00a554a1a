"""The §14B response envelope: `{"success": true, "data": ...}` or `{"success": false, "error": {code, message}}`."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

JSON = "application/json"


def _dump(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json", exclude_none=True)
    return data


def ok(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    body = json.dumps({"success": True, "data": _dump(data)}, ensure_ascii=False, separators=(",", ":"))
    return Response(status_code=status, content_type=JSON, body=body, headers=headers or {})


def error_body(code: str, message: str) -> str:
    return json.dumps({"success": False, "error": {"code": code, "message": message}}, ensure_ascii=False)


def error(status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=error_body(code, message), headers=headers or {})


def raw_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The same envelope as a raw API Gateway proxy result, for paths that answer before the resolver."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON, **(headers or {})},
        "body": error_body(code, message),
        "isBase64Encoded": False,
    }
