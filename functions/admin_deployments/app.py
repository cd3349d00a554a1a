"""Admin API on deployments and domains of any editor, and platform statistics (§6.2)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.deployments import (
    AdminDeploymentCreate,
    AdminDeploymentUpdate,
    DeploymentList,
    DeploymentOut,
    DomainIn,
    DomainList,
)
from aimanager.models.stats import AdminStats
from aimanager.observability import logger
from aimanager.services import deployments, stats
from aimanager.settings import get_settings

bind_tables(get_settings())
app = rest_resolver()
# The permission each route needs (§17.4), checked before anything else; a route not listed is refused.
PERMISSIONS = {
    ("GET", "/api/admin/deployments"): "admin.deployments",
    ("POST", "/api/admin/deployments"): "admin.deployments",
    ("GET", "/api/admin/deployments/{deployment_key}"): "admin.deployments",
    ("PUT", "/api/admin/deployments/{deployment_key}"): "admin.deployments",
    ("DELETE", "/api/admin/deployments/{deployment_key}"): "admin.deployments",
    ("GET", "/api/admin/deployments/{deployment_key}/domains"): "admin.deployments",
    ("POST", "/api/admin/deployments/{deployment_key}/domains"): "admin.deployments",
    ("DELETE", "/api/admin/deployments/{deployment_key}/domains/{domain}"): "admin.deployments",
    ("GET", "/api/admin/stats"): "admin.stats",
}


@app.get(
    "/api/admin/deployments",
    summary="List deployments (optionally of one editor)",
    tags=["Admin"],
    responses=responses(200, DeploymentList, "The deployments"),
)
def list_deployments(editor_id: Annotated[str | None, Query(max_length=64)] = None) -> Response[str]:
    return ok(deployments.list_for(editor_id))


@app.post(
    "/api/admin/deployments",
    summary="Create a deployment for an editor",
    tags=["Admin"],
    responses=responses(
        201,
        DeploymentOut,
        "The deployment",
        e403="The editor's plan allows no more deployments",
        e409="Name already used for this agent",
    ),
)
def create_deployment(body: Annotated[AdminDeploymentCreate, Body()]) -> Response[str]:
    return ok(deployments.admin_create(body), status=201)


@app.get(
    "/api/admin/deployments/<deployment_key>",
    summary="A deployment",
    tags=["Admin"],
    responses=responses(200, DeploymentOut, "The deployment", e404="Unknown deployment"),
)
def get_deployment(deployment_key: str) -> Response[str]:
    return ok(deployments.get(None, deployment_key))


@app.put(
    "/api/admin/deployments/<deployment_key>",
    summary="Update any deployment",
    tags=["Admin"],
    responses=responses(
        200,
        DeploymentOut,
        "The deployment as updated",
        e404="Unknown deployment",
        e409="Name taken or concurrent update",
    ),
)
def update_deployment(deployment_key: str, body: Annotated[AdminDeploymentUpdate, Body()]) -> Response[str]:
    return ok(deployments.admin_update(deployment_key, body))


@app.delete(
    "/api/admin/deployments/<deployment_key>",
    summary="Delete a deployment",
    tags=["Admin"],
    responses=responses(200, DeploymentOut, "The deleted deployment", e404="Unknown deployment"),
)
def delete_deployment(deployment_key: str) -> Response[str]:
    return ok(deployments.delete(deployment_key))


@app.get(
    "/api/admin/deployments/<deployment_key>/domains",
    summary="A deployment's allowed domains",
    tags=["Admin"],
    responses=responses(200, DomainList, "The allowlist", e404="Unknown deployment"),
)
def list_domains(deployment_key: str) -> Response[str]:
    return ok(deployments.domains(None, deployment_key))


@app.post(
    "/api/admin/deployments/<deployment_key>/domains",
    summary="Allow a domain",
    tags=["Admin"],
    responses=responses(
        201, DomainList, "The allowlist with the domain", e404="Unknown deployment", e409="Domain already allowed"
    ),
)
def add_domain(deployment_key: str, body: Annotated[DomainIn, Body()]) -> Response[str]:
    return ok(deployments.add_domain(None, deployment_key, body), status=201)


@app.delete(
    "/api/admin/deployments/<deployment_key>/domains/<domain>",
    summary="Remove an allowed domain",
    tags=["Admin"],
    responses=responses(200, DomainList, "The allowlist without the domain", e404="Unknown deployment or domain"),
)
def remove_domain(deployment_key: str, domain: str) -> Response[str]:
    return ok(deployments.remove_domain(None, deployment_key, domain))


@app.get(
    "/api/admin/stats",
    summary="Platform statistics",
    tags=["Admin"],
    responses=responses(200, AdminStats, "Platform statistics"),
)
def platform_stats() -> Response[str]:
    return ok(stats.admin_stats())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context, permissions=PERMISSIONS)
