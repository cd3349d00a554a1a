"""Scheduled on the 1st of each month, 00:00 UTC: opens the month for every editor (idempotent, decision 0025)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.observability import logger, metrics
from aimanager.services import usage
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The month is the clock's, not the event's: a delayed or replayed event opens the month it runs in.
    result = usage.monthly_reset(datetime.now(UTC))
    logger.info("monthly usage reset", extra=result.model_dump())
    return result.model_dump()
