"""GET /widget/v1/assets/{name}: the loader and the chat app's script and style sheet (copies of widget/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.errors import NotFound
from aimanager.http.api import resolve, rest_resolver

HERE = Path(__file__).parent
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Read once per container; the names are a closed list, so no path ever comes from the request.
ASSETS = {name: (HERE / name).read_text(encoding="utf-8") for name in ("loader.js", "chat.js", "chat.css")}
app = rest_resolver(origin=lambda _: None)


@app.get(
    "/widget/v1/assets/<name>",
    summary="The widget's files: loader.js (the only script a host page includes), chat.js, chat.css",
    tags=["Widget"],
    responses={
        200: {
            "description": "The file",
            "content": {"text/javascript": {"schema": {"type": "string"}}, "text/css": {"schema": {"type": "string"}}},
        },
    },
)
def asset(name: str) -> Response[str]:
    body = ASSETS.get(name)
    if body is None:
        raise NotFound("No such asset.")
    return Response(
        status_code=200,
        body=body,
        headers={
            "Content-Type": TYPES[Path(name).suffix],
            # The loader's URL never changes (host pages embed it): short cache; the app's files follow it.
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
