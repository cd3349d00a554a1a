"""Admin API on agents (masters): CRUD with whitelabel_config, output_schemas and default_branding."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.users import AgentDetail, AgentIn, AgentList, AgentUpdate
from aimanager.observability import logger
from aimanager.services import agents
from aimanager.settings import get_settings

bind_tables(get_settings())
app = rest_resolver()
# The permission each route needs (§17.4), checked before anything else; a route not listed is refused.
PERMISSIONS = {
    ("GET", "/api/admin/agents"): "admin.agents",
    ("POST", "/api/admin/agents"): "admin.agents",
    ("GET", "/api/admin/agents/{agent_id}"): "admin.agents",
    ("PUT", "/api/admin/agents/{agent_id}"): "admin.agents",
    ("DELETE", "/api/admin/agents/{agent_id}"): "admin.agents",
}


@app.get(
    "/api/admin/agents",
    summary="List agents",
    tags=["Admin"],
    responses=responses(200, AgentList, "The agents"),
)
def list_agents() -> Response[str]:
    return ok(agents.list_agents())


@app.post(
    "/api/admin/agents",
    summary="Create an agent",
    tags=["Admin"],
    responses=responses(201, AgentDetail, "The agent", e409="Slug already used"),
)
def create_agent(body: Annotated[AgentIn, Body()]) -> Response[str]:
    return ok(agents.create_agent(body), status=201)


@app.get(
    "/api/admin/agents/<agent_id>",
    summary="An agent",
    tags=["Admin"],
    responses=responses(200, AgentDetail, "The agent", e404="Unknown agent"),
)
def get_agent(agent_id: str) -> Response[str]:
    return ok(agents.get_agent(agent_id))


@app.put(
    "/api/admin/agents/<agent_id>",
    summary="Update an agent",
    tags=["Admin"],
    responses=responses(200, AgentDetail, "The agent as updated", e404="Unknown agent"),
)
def update_agent(agent_id: str, body: Annotated[AgentUpdate, Body()]) -> Response[str]:
    return ok(agents.update_agent(agent_id, body))


@app.delete(
    "/api/admin/agents/<agent_id>",
    summary="Deactivate an agent",
    tags=["Admin"],
    responses=responses(200, AgentDetail, "The agent, deactivated", e404="Unknown agent"),
)
def delete_agent(agent_id: str) -> Response[str]:
    return ok(agents.deactivate_agent(agent_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context, permissions=PERMISSIONS)
