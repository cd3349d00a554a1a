"""Deployment use cases (§3.3-3.4, §6.2-6.3, §12.2): editors manage their own, admins any editor's.

Scoping: an editor's calls pass its user id; a deployment of another editor is exactly as absent as an unknown
key (404), never a 403 that would confirm it exists.
"""

from __future__ import annotations

import secrets
from typing import Any

from pynamodb.expressions.update import Action

from aimanager.dal import accounts, deployment_store
from aimanager.dal import repositories as repo
from aimanager.dal.tables import AgentItem, DeploymentItem
from aimanager.domain.config import check_branding, check_overlay, check_rate_limit
from aimanager.domain.deployment_rules import mode_violation
from aimanager.domain.origins import normalize_host
from aimanager.domain.plans import effective_limits
from aimanager.domain.roles import parse_roles
from aimanager.errors import Conflict, Forbidden, NotFound, ValidationFailed
from aimanager.ids import utc_now
from aimanager.models.agent import AllowedDomain
from aimanager.models.deployments import (
    AdminDeploymentCreate,
    AdminDeploymentUpdate,
    DeploymentCreate,
    DeploymentList,
    DeploymentOut,
    DeploymentUpdate,
    DomainIn,
    DomainList,
    DomainOut,
)

DEFAULT_RATE_LIMIT = 60


def _map(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return dict(value.as_dict() if hasattr(value, "as_dict") else value)


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _domain_out(d: AllowedDomain) -> DomainOut:
    return DomainOut(domain=d.domain, is_wildcard=d.is_wildcard, environment=d.environment, is_active=d.is_active)


def deployment_out(item: DeploymentItem) -> DeploymentOut:
    return DeploymentOut(
        deployment_key=item.deployment_key,
        agent_id=item.agent_id,
        editor_id=item.editor_id,
        name=item.name,
        deployment_mode=item.deployment_mode,
        config_overlay=_map(item.config_overlay),
        branding=_map(item.branding),
        dedicated_collection=item.dedicated_collection,
        domains=[_domain_out(d) for d in deployment_store.domains_of(item)],
        rate_limit_per_ip=int(item.rate_limit_per_ip),
        max_sessions_day=_int(item.max_sessions_day),
        max_messages_day=_int(item.max_messages_day),
        is_active=bool(item.is_active),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _own(editor_id: str | None, deployment_key: str) -> DeploymentItem:
    """The deployment if it is the caller's (editor_id None = admin: any editor's)."""
    item = deployment_store.get(deployment_key) if len(deployment_key) <= 64 else None
    if item is None or (editor_id is not None and item.editor_id != editor_id):
        raise NotFound("Unknown deployment.", code="deployment_not_found")
    return item


def _agent(agent_id: str) -> AgentItem:
    try:
        agent = AgentItem.get(agent_id, consistent_read=True)
    except AgentItem.DoesNotExist:
        agent = None
    if agent is None or not agent.is_active:
        raise ValidationFailed("Field 'agent_id': unknown agent.", code="agent_not_found")
    return agent


def _check(agent_id: str, mode: str, overlay: dict[str, Any], branding: dict[str, Any], rate: int | None) -> None:
    """The master's rules on what a deployment may set (domain/config.py): 422 naming the first refused field."""
    config = repo.get_agent(agent_id)
    if config is None:
        raise ValidationFailed("Field 'agent_id': unknown agent.", code="agent_not_found")
    check_overlay(config, mode, overlay)
    check_branding(config, branding)
    if rate is not None:
        check_rate_limit(config, rate)


def _refuse(violation: tuple[str, str] | None) -> None:
    if violation is not None:
        field, reason = violation
        raise ValidationFailed(f"Field '{field}': {reason}.", code="agent_not_deployable")


def _domain(body: DomainIn) -> AllowedDomain:
    raw = body.domain.strip().lower()
    wildcard = raw.startswith("*.")
    host = normalize_host(raw[2:] if wildcard else raw)
    if host is None or (wildcard and "." not in host):
        raise ValidationFailed(f"Field 'domain': '{body.domain}' is not a host name or a '*.domain' pattern.")
    return AllowedDomain(
        domain=f"*.{host}" if wildcard else host,
        is_wildcard=wildcard,
        environment=body.environment,
        is_active=body.is_active,
    )


def _domains(bodies: list[DomainIn]) -> list[AllowedDomain]:
    domains = [_domain(b) for b in bodies]
    names = [d.domain for d in domains]
    if len(set(names)) != len(names):
        raise Conflict("The same domain is listed twice.", code="domain_exists")
    return domains


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    return value


# ------------------------------------------------------------------ create, list, read


def create(editor_id: str, body: DeploymentCreate, *, dedicated_collection: str | None = None) -> DeploymentOut:
    """A deployment of an agent for this editor, within its plan's max_deployments (§9.1) and the master's rules."""
    editor = accounts.get_user(editor_id)
    if editor is None or not editor.is_active or "editeur" not in parse_roles(editor.roles):
        raise ValidationFailed("Field 'editor_id': unknown editor.", code="editor_not_found")
    agent = _agent(body.agent_id)
    rules = _map(agent.whitelabel_config)
    overlay = _clean(body.config_overlay.model_dump()) if body.config_overlay else {}
    branding = _clean(body.branding.model_dump()) if body.branding else {}
    _refuse(mode_violation(agent.deployment_mode, bool(agent.is_whitelabel_enabled), body.deployment_mode))
    _check(agent.agent_id, body.deployment_mode, overlay, branding, body.rate_limit_per_ip)
    domains = _domains(body.domains)
    limits = effective_limits(editor.plan, max_deployments=_int(editor.max_deployments))
    item = DeploymentItem(
        f"dpl_{secrets.token_urlsafe(18)}",
        agent_id=agent.agent_id,
        editor_id=editor_id,
        name=body.name.strip(),
        deployment_mode=body.deployment_mode,
        config_overlay=overlay or None,
        branding=branding or None,
        dedicated_collection=dedicated_collection,
        rate_limit_per_ip=body.rate_limit_per_ip or max(DEFAULT_RATE_LIMIT, int(rules.get("min_rate_limit") or 0)),
        max_sessions_day=body.max_sessions_day,
        max_messages_day=body.max_messages_day,
        is_active=True,
        created_at=utc_now(),
    )
    try:
        deployment_store.create(item, domains, max_deployments=limits.max_deployments)
    except accounts.Duplicate as exc:
        if exc.rule == "max_deployments_reached":
            raise Forbidden(
                f"Your plan allows {limits.max_deployments} deployment(s).", code="max_deployments_reached"
            ) from exc
        raise Conflict(
            "A deployment of this agent with this name already exists.", code="deployment_name_taken"
        ) from exc
    return deployment_out(item)


def admin_create(body: AdminDeploymentCreate) -> DeploymentOut:
    fields = body.model_dump(exclude={"editor_id", "dedicated_collection"})
    return create(body.editor_id, DeploymentCreate(**fields), dedicated_collection=body.dedicated_collection)


def list_for(editor_id: str | None) -> DeploymentList:
    items = deployment_store.of_editor(editor_id) if editor_id else deployment_store.all_deployments()
    return DeploymentList(items=[deployment_out(i) for i in sorted(items, key=lambda i: i.created_at)])


def get(editor_id: str | None, deployment_key: str) -> DeploymentOut:
    return deployment_out(_own(editor_id, deployment_key))


# ------------------------------------------------------------------ update


def _set_or_remove(attr: Any, value: Any) -> Action:
    action: Action = attr.set(value) if value not in (None, {}) else attr.remove()
    return action


def update(editor_id: str | None, deployment_key: str, body: DeploymentUpdate) -> DeploymentOut:
    """Branding and the config the master's whitelabel_config allows (admins may also change mode and collection)."""
    item = _own(editor_id, deployment_key)
    agent = _agent(item.agent_id)
    sent = body.model_dump(exclude_unset=True)
    mode = str(sent.get("deployment_mode") or item.deployment_mode)
    if "deployment_mode" in sent:
        _refuse(mode_violation(agent.deployment_mode, bool(agent.is_whitelabel_enabled), mode))
    overlay = _clean(sent["config_overlay"]) if sent.get("config_overlay") is not None else _map(item.config_overlay)
    branding = _clean(sent["branding"]) if sent.get("branding") is not None else _map(item.branding)
    _check(agent.agent_id, mode, overlay, branding, sent.get("rate_limit_per_ip"))
    actions: list[Action] = []
    if "config_overlay" in sent:
        actions.append(_set_or_remove(DeploymentItem.config_overlay, overlay))
    if "branding" in sent:
        actions.append(_set_or_remove(DeploymentItem.branding, branding))
    for name in (
        "rate_limit_per_ip",
        "max_sessions_day",
        "max_messages_day",
        "deployment_mode",
        "dedicated_collection",
    ):
        if name in sent:
            if sent[name] is None and name in ("rate_limit_per_ip", "deployment_mode"):
                raise ValidationFailed(f"Field '{name}' cannot be null.")
            actions.append(_set_or_remove(getattr(DeploymentItem, name), sent[name]))
    new_name = sent.get("name")
    if new_name is not None:
        actions.append(DeploymentItem.name.set(new_name.strip()))
    if "is_active" in sent and sent["is_active"] is None:
        raise ValidationFailed("Field 'is_active' cannot be null.")
    _write(item, actions, new_name=new_name.strip() if new_name else None, is_active=sent.get("is_active"))
    return deployment_out(_own(editor_id, deployment_key))


def admin_update(deployment_key: str, body: AdminDeploymentUpdate) -> DeploymentOut:
    return update(None, deployment_key, body)


def _write(item: DeploymentItem, actions: list[Action], **kwargs: Any) -> None:
    try:
        deployment_store.update(item, actions, **kwargs)
    except accounts.Duplicate as exc:
        if exc.rule == "name_taken":
            raise Conflict(
                "A deployment of this agent with this name already exists.", code="deployment_name_taken"
            ) from exc
        raise Conflict("The deployment changed meanwhile; read it again and retry.", code="concurrent_update") from exc


def delete(deployment_key: str) -> DeploymentOut:
    """Admin only: the deployment, its allowlist and reverse index go; the editor gets its slot back."""
    item = _own(None, deployment_key)
    editor = accounts.get_user(item.editor_id)
    try:
        deployment_store.delete(item, editor_count=int(editor.deployments_count or 0) if editor else 0)
    except accounts.Duplicate as exc:
        raise NotFound("Unknown deployment.", code="deployment_not_found") from exc
    out = deployment_out(item)
    out.is_active = False
    return out


# ------------------------------------------------------------------ domains


def domains(editor_id: str | None, deployment_key: str) -> DomainList:
    item = _own(editor_id, deployment_key)
    return DomainList(
        deployment_key=item.deployment_key, items=[_domain_out(d) for d in deployment_store.domains_of(item)]
    )


def add_domain(editor_id: str | None, deployment_key: str, body: DomainIn) -> DomainList:
    """Unique (deployment, domain) (§3.4): the same domain twice is a 409."""
    item = _own(editor_id, deployment_key)
    new = _domain(body)
    current = deployment_store.domains_of(item)
    if any(d.domain == new.domain for d in current):
        raise Conflict(f"'{new.domain}' is already allowed for this deployment.", code="domain_exists")
    _write(item, [], domains=[*current, new])
    return domains(editor_id, deployment_key)


def remove_domain(editor_id: str | None, deployment_key: str, domain: str) -> DomainList:
    item = _own(editor_id, deployment_key)
    current = deployment_store.domains_of(item)
    wanted = domain.strip().lower()
    kept = [d for d in current if d.domain != wanted]
    if len(kept) == len(current):
        raise NotFound("This domain is not allowed for this deployment.", code="domain_not_found")
    _write(item, [], domains=kept)
    return domains(editor_id, deployment_key)
