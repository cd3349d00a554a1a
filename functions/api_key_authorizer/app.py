"""Lambda REQUEST authorizer of the editor, fabricant and admin APIs (X-API-Key) and the artisan API (bearer).

The route decides which credential counts: `/api/artisan/...` only a bearer token, every other route only an
API key, so a credential of one kind never opens the other's routes. Nothing is cached (decision 0015).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.errors import Unauthorized
from aimanager.observability import logger
from aimanager.services.api_auth import authorize_api_key, authorize_bearer
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)
ARTISAN_ROUTES = "/api/artisan/"


def _policy(method_arn: str, principal: str, context: dict[str, str]) -> dict[str, Any]:
    base = "/".join(method_arn.split("/")[:2])
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{base}/*"}],
        },
        "context": context,
    }


def _header(event: dict[str, Any], name: str) -> str | None:
    headers = event.get("headers") or {}
    return next((v for k, v in headers.items() if k.lower() == name and isinstance(v, str)), None)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    route = str(event.get("resource") or event.get("path") or "")
    ip = str(((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp") or "")
    try:
        if route.startswith(ARTISAN_ROUTES):
            from aimanager.adapters.secrets import signing_secret

            caller = authorize_bearer(_header(event, "authorization"), signing_secret(), source_ip=ip)
        else:
            caller = authorize_api_key(_header(event, "x-api-key"), ip)
    except Unauthorized:
        raise Exception("Unauthorized") from None  # API Gateway's contract for a 401
    return _policy(str(event.get("methodArn") or ""), caller.user_id, caller.as_authorizer_context())
