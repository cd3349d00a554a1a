"""POST /api/widget/v1/init: checks the deployment key (header or body) and the origin, opens a session."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.adapters.events import EventBusPublisher
from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import request_meta, source_ip
from aimanager.http.cors import cors_headers
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.widget import InitIn, InitOut
from aimanager.observability import logger, metrics
from aimanager.services import widget
from aimanager.services.authorize import authorize_widget
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)
app = rest_resolver()
metering = widget.Metering(
    EventBusPublisher(settings.event_bus_name) if settings.event_bus_name else None, settings.limits_cache_seconds
)


@app.post(
    "/api/widget/v1/init",
    summary="Open (or resume) a widget session",
    description="The deployment key travels in `X-Deployment-Key` or in the body; the Origin (else Referer) host "
    "must be on the deployment's allowlist. Returns the agent, the resolved branding and texts.",
    tags=["Widget"],
    responses={
        **responses(201, InitOut, "Session opened"),
        **responses(
            200,
            InitOut,
            "Session resumed",
            e401="Missing or unknown key",
            e403="Origin not allowed",
            e429="A limit is reached (rate_limited, deployment_daily_quota, editor_monthly_quota, link_monthly_quota); "
            "Retry-After, RateLimit-Policy and RateLimit say which and until when",
        ),
    },
)
def init(body: Annotated[InitIn, Body()]) -> Response[str]:
    event = app.current_event
    key = event.headers.get("x-deployment-key") or event.headers.get("X-Deployment-Key") or body.deployment_key
    caller = authorize_widget(
        key, dict(event.headers), source_ip(event.raw_event), cache_ttl_s=settings.authorizer_cache_seconds
    )
    # From here on the origin is known to be allowed: errors too may carry it.
    event.raw_event.setdefault("requestContext", {})["authorizer"] = caller.as_authorizer_context()
    session = widget.open_session(caller, body, request=request_meta(event.raw_event), metering=metering)
    if not session.resumed:
        metrics.add_metric(name="SessionsOpened", unit=MetricUnit.Count, value=1)
    return ok(session, status=201 if not session.resumed else 200, headers=cors_headers(caller.origin))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
