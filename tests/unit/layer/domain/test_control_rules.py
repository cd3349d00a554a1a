"""Pure control-plane rules: plans (§9.1), link codes (§15.2A), what a deployment may override (§12.2)."""

from __future__ import annotations

import pytest

from aimanager.domain.deployment_rules import mode_violation
from aimanager.domain.link_codes import new_link_code, normalize_link_code
from aimanager.domain.plans import PlanLimits, effective_limits
from aimanager.domain.roles import api_key_kind, format_roles, parse_roles


@pytest.mark.parametrize(
    ("plan", "overrides", "expected"),
    [
        ("starter", {}, PlanLimits(1_000, 10_000, 1)),
        ("pro", {}, PlanLimits(10_000, 100_000, 5)),
        ("business", {}, PlanLimits(50_000, 500_000, 20)),
        ("enterprise", {}, PlanLimits(None, None, None)),
        (None, {}, PlanLimits(1_000, 10_000, 1)),  # no plan = Starter (deny by default)
        ("gold", {}, PlanLimits(1_000, 10_000, 1)),
        ("pro", {"max_deployments": 2}, PlanLimits(10_000, 100_000, 2)),
        ("enterprise", {"max_sessions_month": 0}, PlanLimits(0, None, None)),  # 0 is a limit, not "unset"
    ],
)
def test_effective_limits(plan: str | None, overrides: dict[str, int], expected: PlanLimits) -> None:
    assert effective_limits(plan, **overrides) == expected


def test_link_codes_are_random_and_normalized() -> None:
    code = new_link_code(bytes(range(8)))
    assert code == "LINK-AAAQEAYEAU"
    assert normalize_link_code(f"  {code.lower()} ") == code
    for junk in ("", "LINK-", "LINK-0000000000", "link-abc", "DROP TABLE", "LINK-AAAQEAYEAUX"):
        assert normalize_link_code(junk) is None
    with pytest.raises(ValueError):
        new_link_code(b"12345")


@pytest.mark.parametrize(
    ("agent_mode", "whitelabel", "mode", "field"),
    [
        ("internal", True, "shared", "agent_id"),
        ("shared", False, "shared", "agent_id"),
        ("shared", True, "shared", None),
        ("shared", True, "dedicated", "deployment_mode"),
        ("dedicated", True, "dedicated", None),
        ("dedicated", True, "shared", None),
    ],
)
def test_which_masters_may_be_deployed_how(agent_mode: str, whitelabel: bool, mode: str, field: str | None) -> None:
    violation = mode_violation(agent_mode, whitelabel, mode)
    assert (violation[0] if violation else None) == field


@pytest.mark.parametrize(
    ("roles", "kind"),
    [("editeur", "editeur"), ("fabricant", "fabricant"), ("admin,editeur", "admin"), ("artisan", None), ("", None)],
)
def test_which_roles_hold_an_api_key(roles: str, kind: str | None) -> None:
    assert api_key_kind(parse_roles(roles)) == kind


def test_roles_round_trip() -> None:
    assert format_roles(parse_roles("editeur, artisan,editeur")) == "artisan,editeur"
