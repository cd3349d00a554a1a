"""CORS preflight for the widget API: echoes the Origin only when an active deployment allows it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.http.cors import preflight_headers
from aimanager.http.envelope import raw_error
from aimanager.observability import logger
from aimanager.services.authorize import preflight_allowed
from aimanager.settings import get_settings

bind_tables(get_settings())


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = event.get("headers") or {}
    origin = next((v for k, v in headers.items() if k.lower() == "origin"), None)
    if not preflight_allowed(origin):
        logger.warning(
            "preflight refused",
            extra={"origin": origin, "source_ip": event["requestContext"]["identity"].get("sourceIp")},
        )
        return raw_error(
            403,
            "origin_not_allowed",
            "This site is not authorised to use this assistant.",
            {"Vary": "Origin"},
        )
    return {
        "statusCode": 204,
        "headers": preflight_headers(str(origin)),
        "body": "",
        "isBase64Encoded": False,
    }
