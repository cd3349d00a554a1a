"""Admin use cases on agents (masters, §3.5, §12): whitelabel_config, output_schemas, default_branding."""

from __future__ import annotations

from typing import Any

from aimanager.dal import accounts
from aimanager.dal.tables import AgentItem, UniqueItem
from aimanager.errors import Conflict, NotFound, ValidationFailed
from aimanager.ids import random_id, utc_now
from aimanager.models.users import AgentDetail, AgentIn, AgentList, AgentUpdate


def _map(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return dict(value.as_dict() if hasattr(value, "as_dict") else value)


def agent_out(item: AgentItem) -> AgentDetail:
    return AgentDetail(
        agent_id=item.agent_id,
        name=item.name,
        slug=item.slug,
        description=item.description,
        system_prompt=item.system_prompt,
        model=item.model,
        fallback_model=item.fallback_model,
        temperature=float(item.temperature),
        max_tokens=int(item.max_tokens),
        context_window_size=int(item.context_window_size),
        qdrant_collection=item.qdrant_collection,
        deployment_mode=item.deployment_mode,
        is_whitelabel_enabled=bool(item.is_whitelabel_enabled),
        whitelabel_config=_map(item.whitelabel_config),
        output_schemas=_map(item.output_schemas),
        default_branding=_map(item.default_branding),
        avatar_url=item.avatar_url,
        is_active=bool(item.is_active),
        created_at=item.created_at,
    )


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    return value


def create_agent(body: AgentIn) -> AgentDetail:
    fields = _clean(body.model_dump(exclude_none=True))
    if body.is_whitelabel_enabled is None:
        fields["is_whitelabel_enabled"] = body.deployment_mode != "internal"
    item = AgentItem(random_id("agt", 12), **fields, is_active=True, created_at=utc_now())
    try:
        accounts.transact(
            [
                ("slug_taken", "guard", UniqueItem(f"agent_slug#{body.slug}", ref=item.agent_id), None),
                ("agent_exists", "put", item, AgentItem.agent_id.does_not_exist()),
            ]
        )
    except accounts.Duplicate as exc:
        raise Conflict(f"An agent with slug '{body.slug}' already exists.", code="slug_taken") from exc
    return agent_out(item)


def _get(agent_id: str) -> AgentItem:
    try:
        return AgentItem.get(agent_id, consistent_read=True)
    except AgentItem.DoesNotExist as exc:
        raise NotFound("Unknown agent.", code="agent_not_found") from exc


def get_agent(agent_id: str) -> AgentDetail:
    return agent_out(_get(agent_id))


def list_agents() -> AgentList:
    return AgentList(items=[agent_out(a) for a in sorted(AgentItem.scan(), key=lambda a: a.created_at)])


def update_agent(agent_id: str, body: AgentUpdate) -> AgentDetail:
    item = _get(agent_id)
    actions = []
    for name, value in body.model_dump(exclude_unset=True).items():
        attr = getattr(AgentItem, name)
        if value is None and not attr.null:
            raise ValidationFailed(f"Field '{name}' cannot be null.")
        actions.append(attr.remove() if value is None else attr.set(_clean(value)))
    if actions:
        actions.append(AgentItem.updated_at.set(utc_now()))
        item.update(actions=actions, condition=AgentItem.agent_id.exists())
    return agent_out(item)


def deactivate_agent(agent_id: str) -> AgentDetail:
    """Agents are never deleted (deployments and sessions refer to them): inactive agents stop answering."""
    return update_agent(agent_id, AgentUpdate(is_active=False))
