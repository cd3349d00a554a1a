"""Editor API on its own deployments and their allowed domains (§6.3, §17.6); another editor's are 404."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import api_caller
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.deployments import (
    DeploymentCreate,
    DeploymentList,
    DeploymentOut,
    DeploymentUpdate,
    DomainIn,
    DomainList,
)
from aimanager.observability import logger
from aimanager.services import deployments
from aimanager.settings import get_settings

bind_tables(get_settings())
app = rest_resolver()
# The permission each route needs (§17.4), checked before anything else; a route not listed is refused.
PERMISSIONS = {
    ("GET", "/api/editor/deployments"): "deployments.manage",
    ("POST", "/api/editor/deployments"): "deployments.manage",
    ("GET", "/api/editor/deployments/{deployment_key}"): "deployments.manage",
    ("PUT", "/api/editor/deployments/{deployment_key}"): "deployments.manage",
    ("GET", "/api/editor/deployments/{deployment_key}/domains"): "domains.manage",
    ("POST", "/api/editor/deployments/{deployment_key}/domains"): "domains.manage",
    ("DELETE", "/api/editor/deployments/{deployment_key}/domains/{domain}"): "domains.manage",
}


def _editor() -> str:
    return api_caller(app.current_event.raw_event).user_id


@app.get(
    "/api/editor/deployments",
    summary="Your deployments",
    tags=["Editor"],
    responses=responses(200, DeploymentList, "Your deployments"),
)
def list_deployments() -> Response[str]:
    return ok(deployments.list_for(_editor()))


@app.post(
    "/api/editor/deployments",
    summary="Deploy an agent (within your plan's max_deployments)",
    tags=["Editor"],
    responses=responses(
        201,
        DeploymentOut,
        "The deployment (its key is public: the widget uses it)",
        e403="Your plan allows no more deployments",
        e409="Name already used for this agent",
    ),
)
def create_deployment(body: Annotated[DeploymentCreate, Body()]) -> Response[str]:
    return ok(deployments.create(_editor(), body), status=201)


@app.get(
    "/api/editor/deployments/<deployment_key>",
    summary="One of your deployments",
    tags=["Editor"],
    responses=responses(200, DeploymentOut, "The deployment", e404="Not one of your deployments"),
)
def get_deployment(deployment_key: str) -> Response[str]:
    return ok(deployments.get(_editor(), deployment_key))


@app.put(
    "/api/editor/deployments/<deployment_key>",
    summary="Update branding and the config the agent allows",
    tags=["Editor"],
    responses=responses(
        200,
        DeploymentOut,
        "The deployment as updated",
        e404="Not one of your deployments",
        e409="Name taken or concurrent update",
    ),
)
def update_deployment(deployment_key: str, body: Annotated[DeploymentUpdate, Body()]) -> Response[str]:
    return ok(deployments.update(_editor(), deployment_key, body))


@app.get(
    "/api/editor/deployments/<deployment_key>/domains",
    summary="Allowed domains of your deployment",
    tags=["Editor"],
    responses=responses(200, DomainList, "The allowlist", e404="Not one of your deployments"),
)
def list_domains(deployment_key: str) -> Response[str]:
    return ok(deployments.domains(_editor(), deployment_key))


@app.post(
    "/api/editor/deployments/<deployment_key>/domains",
    summary="Allow a domain",
    tags=["Editor"],
    responses=responses(
        201,
        DomainList,
        "The allowlist with the domain",
        e404="Not one of your deployments",
        e409="Domain already allowed",
    ),
)
def add_domain(deployment_key: str, body: Annotated[DomainIn, Body()]) -> Response[str]:
    return ok(deployments.add_domain(_editor(), deployment_key, body), status=201)


@app.delete(
    "/api/editor/deployments/<deployment_key>/domains/<domain>",
    summary="Remove an allowed domain",
    tags=["Editor"],
    responses=responses(200, DomainList, "The allowlist without the domain", e404="Unknown deployment or domain"),
)
def remove_domain(deployment_key: str, domain: str) -> Response[str]:
    return ok(deployments.remove_domain(_editor(), deployment_key, domain))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context, permissions=PERMISSIONS)
