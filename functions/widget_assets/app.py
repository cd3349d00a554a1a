"""GET /widget/v1/assets/{name}: the loader and the chat app's script and style sheet (copies of widget/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.http.envelope import raw_error

HERE = Path(__file__).parent
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Read once per container; the names are a closed list, so no path ever comes from the request.
ASSETS = {name: (HERE / name).read_text(encoding="utf-8") for name in ("loader.js", "chat.js", "chat.css")}


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    name = str((event.get("pathParameters") or {}).get("name") or "")
    body = ASSETS.get(name)
    if body is None:
        return raw_error(404, "not_found", "No such asset.")
    return {
        "statusCode": 200,
        "headers": {
            "Content-Type": TYPES[Path(name).suffix],
            # The loader's URL never changes (host pages embed it): short cache; the app's files follow it.
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
        "body": body,
        "isBase64Encoded": False,
    }
