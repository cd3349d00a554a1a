"""Deployment writes of the editor and admin APIs: quota-checked creation, updates, allowlist changes.

Every write is one transaction that also keeps the reverse origin index (AllowedOriginsTable), the
(agent, editor, name) uniqueness guard and the editor's deployments_count consistent.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from aimanager.dal.accounts import transact
from aimanager.dal.tables import AllowedOriginItem, DeploymentItem, UniqueItem, UserItem
from aimanager.domain.origins import index_keys_for_entry
from aimanager.ids import utc_now
from aimanager.models.agent import AllowedDomain

Op = tuple[str, str, Any, Any]


def name_guard(agent_id: str, editor_id: str, name: str) -> str:
    return f"dpl#{agent_id}#{editor_id}#{name.strip().lower()}"


def domains_of(item: DeploymentItem) -> list[AllowedDomain]:
    raw: dict[str, Any] = item.allowed_domains.as_dict() if item.allowed_domains is not None else {}  # type: ignore[no-untyped-call]
    return [
        AllowedDomain(
            domain=name,
            is_wildcard=bool(spec.get("is_wildcard", False)),
            environment=str(spec.get("environment", "production")),
            is_active=bool(spec.get("is_active", True)),
        )
        for name, spec in sorted(raw.items())
    ]


def _domain_map(domains: list[AllowedDomain]) -> dict[str, Any]:
    return {
        d.domain: {"is_wildcard": d.is_wildcard, "environment": d.environment, "is_active": d.is_active}
        for d in domains
    }


def _index_keys(domains: list[AllowedDomain]) -> set[str]:
    return {k for d in domains for k in index_keys_for_entry(d)}


def _index_ops(key: str, before: list[AllowedDomain], after: list[AllowedDomain], active: bool) -> list[Op]:
    ops: list[Op] = [
        ("index", "put", AllowedOriginItem(k, key, is_active=active), None) for k in sorted(_index_keys(after))
    ]
    ops += [
        ("index", "delete", AllowedOriginItem(k, key), None) for k in sorted(_index_keys(before) - _index_keys(after))
    ]
    return ops


def get(deployment_key: str) -> DeploymentItem | None:
    try:
        return DeploymentItem.get(deployment_key, consistent_read=True)
    except DoesNotExist:
        return None


def of_editor(editor_id: str) -> list[DeploymentItem]:
    return list(DeploymentItem.editor_id_index.query(editor_id))


def all_deployments() -> list[DeploymentItem]:
    return list(DeploymentItem.scan())


def create(item: DeploymentItem, domains: list[AllowedDomain], *, max_deployments: int | None) -> None:
    """Create within the editor's max_deployments (checked and counted atomically); Duplicate names the rule."""
    item.allowed_domains = _domain_map(domains)
    count_condition: Condition = UserItem.user_id.exists()
    if max_deployments is not None:
        count_condition &= UserItem.deployments_count.does_not_exist() | (UserItem.deployments_count < max_deployments)
    ops: list[Op] = [
        (
            "name_taken",
            "guard",
            UniqueItem(name_guard(item.agent_id, item.editor_id, item.name), ref=item.deployment_key),
            None,
        ),
        (
            "max_deployments_reached",
            "update",
            UserItem(item.editor_id),
            ([UserItem.deployments_count.add(1)], count_condition),
        ),
        ("deployment_exists", "put", item, DeploymentItem.deployment_key.does_not_exist()),
        *_index_ops(item.deployment_key, [], domains, bool(item.is_active)),
    ]
    transact(ops)


def update(
    item: DeploymentItem,
    actions: list[Action],
    *,
    domains: list[AllowedDomain] | None = None,
    new_name: str | None = None,
    is_active: bool | None = None,
) -> None:
    """Apply actions to a deployment read just before (optimistic: refused with Duplicate("stale") if it changed).

    `domains` replaces the allowlist (and its reverse index); `new_name` moves the uniqueness guard.
    """
    before = domains_of(item)
    after = domains if domains is not None else before
    now = utc_now()
    actions = [*actions, DeploymentItem.updated_at.set(now)]
    if domains is not None:
        actions.append(DeploymentItem.allowed_domains.set(_domain_map(after)))
    if is_active is not None:
        actions.append(DeploymentItem.is_active.set(is_active))
    unchanged: Condition = DeploymentItem.deployment_key.exists() & (DeploymentItem.editor_id == item.editor_id)
    unchanged &= (
        DeploymentItem.updated_at.does_not_exist()
        if item.updated_at is None
        else DeploymentItem.updated_at == item.updated_at
    )
    ops: list[Op] = []
    if new_name is not None and name_guard(item.agent_id, item.editor_id, new_name) != name_guard(
        item.agent_id, item.editor_id, item.name
    ):
        ops.append(
            (
                "name_taken",
                "guard",
                UniqueItem(name_guard(item.agent_id, item.editor_id, new_name), ref=item.deployment_key),
                None,
            )
        )
        ops.append(("name_guard", "delete", UniqueItem(name_guard(item.agent_id, item.editor_id, item.name)), None))
    ops.append(("stale", "update", DeploymentItem(item.deployment_key), (actions, unchanged)))
    # The reverse index mirrors is_active: preflights for a paused deployment refuse.
    ops += _index_ops(item.deployment_key, before, after, bool(item.is_active if is_active is None else is_active))
    transact(ops)


def delete(item: DeploymentItem, *, editor_count: int) -> None:
    """Remove the deployment, its guard and index rows, and give the editor its slot back."""
    ops: list[Op] = [
        ("stale", "delete", DeploymentItem(item.deployment_key), DeploymentItem.deployment_key.exists()),
        ("name_guard", "delete", UniqueItem(name_guard(item.agent_id, item.editor_id, item.name)), None),
        *_index_ops(item.deployment_key, domains_of(item), [], False),
    ]
    if editor_count > 0:
        ops.append(("count", "update", UserItem(item.editor_id), ([UserItem.deployments_count.add(-1)], None)))
    transact(ops)
