"""Lambda REQUEST authorizer for the widget API: deployment key + Origin/Referer against the allowlist."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.errors import Forbidden, Unauthorized
from aimanager.observability import logger
from aimanager.services.authorize import authorize_widget
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)


def _policy(effect: str, method_arn: str, principal: str, context: dict[str, str]) -> dict[str, Any]:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> the whole stage, so a cached
    # Allow also covers the caller's other widget routes.
    base = "/".join(method_arn.split("/")[:2])
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": f"{base}/*"}],
        },
        "context": context,
    }


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = {k: v for k, v in (event.get("headers") or {}).items() if isinstance(v, str)}
    key = next((v for k, v in headers.items() if k.lower() == "x-deployment-key"), None)
    ip = str(((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp") or "")
    method_arn = str(event.get("methodArn") or "")
    try:
        caller = authorize_widget(key, headers, ip, cache_ttl_s=settings.authorizer_cache_seconds)
    except Unauthorized:
        raise Exception("Unauthorized") from None  # API Gateway's contract for a 401
    except Forbidden as exc:
        return _policy("Deny", method_arn, key or "anonymous", {"error_code": exc.code, "error_message": exc.message})
    return _policy("Allow", method_arn, caller.deployment_key, caller.as_authorizer_context())
