"""GET /api/health: 200 when the tables answer, 503 otherwise."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import AgentItem, bind_tables
from aimanager.http.envelope import raw_error
from aimanager.settings import get_settings

bind_tables(get_settings())


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        AgentItem.count(limit=1)
    except Exception:
        return raw_error(503, "unavailable", "The data store does not answer.")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": '{"success": true, "data": {"status": "ok"}}',
        "isBase64Encoded": False,
    }
