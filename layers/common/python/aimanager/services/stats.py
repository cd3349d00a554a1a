"""Statistics and usage (§6.2-6.3, §9.2), computed from the sessions index: counted, never estimated."""

from __future__ import annotations

from datetime import UTC, datetime

from aimanager.dal import accounts, deployment_store
from aimanager.dal.tables import AgentItem, DeploymentItem, SessionItem, UserItem
from aimanager.domain.plans import effective_limits
from aimanager.errors import NotFound
from aimanager.models.stats import AdminStats, DeploymentStats, EditorStats, Usage
from aimanager.models.users import Limits


def month_start(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return now.strftime("%Y-%m-01T00:00:00")


def _deployment_stats(item: DeploymentItem, since: str) -> DeploymentStats:
    return DeploymentStats(
        deployment_key=item.deployment_key,
        name=item.name,
        is_active=bool(item.is_active),
        sessions_total=accounts.count_sessions(item.deployment_key),
        sessions_month=accounts.count_sessions(item.deployment_key, since),
    )


def editor_stats(editor_id: str) -> EditorStats:
    since = month_start()
    per = [
        _deployment_stats(d, since) for d in sorted(deployment_store.of_editor(editor_id), key=lambda d: d.created_at)
    ]
    return EditorStats(
        editor_id=editor_id,
        month=since[:7],
        deployments=per,
        sessions_total=sum(d.sessions_total for d in per),
        sessions_month=sum(d.sessions_month for d in per),
        artisans_linked=sum(1 for link in accounts.links_of_editor(editor_id) if link.is_active),
    )


def _int(value: float | None) -> int | None:
    return int(value) if value is not None else None


def editor_usage(editor_id: str) -> Usage:
    editor = accounts.get_user(editor_id)
    if editor is None:
        raise NotFound("Unknown editor.", code="user_not_found")
    limits = effective_limits(
        editor.plan,
        max_sessions_month=_int(editor.max_sessions_month),
        max_messages_month=_int(editor.max_messages_month),
        max_deployments=_int(editor.max_deployments),
    )
    since = month_start()
    deployments = deployment_store.of_editor(editor_id)
    return Usage(
        editor_id=editor_id,
        month=since[:7],
        plan=editor.plan or "starter",
        limits=Limits(
            max_deployments=limits.max_deployments,
            max_sessions_month=limits.max_sessions_month,
            max_messages_month=limits.max_messages_month,
        ),
        deployments=len(deployments),
        sessions_month=sum(accounts.count_sessions(d.deployment_key, since) for d in deployments),
    )


def admin_stats() -> AdminStats:
    users = list(UserItem.scan(attributes_to_get=["user_id", "roles"]))
    deployments = list(DeploymentItem.scan(attributes_to_get=["deployment_key", "is_active"]))
    return AdminStats(
        editors=sum(1 for u in users if "editeur" in u.roles.split(",")),
        artisans=sum(1 for u in users if "artisan" in u.roles.split(",")),
        agents=AgentItem.count(),
        deployments=len(deployments),
        active_deployments=sum(1 for d in deployments if d.is_active),
        sessions=SessionItem.count(),
    )
