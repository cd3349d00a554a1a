"""Statistics (§6.2-6.3), computed from the sessions index: counted, never estimated."""

from __future__ import annotations

from datetime import UTC, datetime

from aimanager.dal import accounts, deployment_store
from aimanager.dal.tables import AgentItem, DeploymentItem, SessionItem, UserItem
from aimanager.domain.links import is_usable
from aimanager.models.stats import AdminStats, DeploymentStats, EditorStats


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
        artisans_linked=sum(
            1 for link in accounts.links_of_editor(editor_id) if is_usable(is_active=link.is_active, status=link.status)
        ),
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
