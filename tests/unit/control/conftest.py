"""A world with the demo agent, editors EBP and SAGE, an admin, a fabricant and a deployment each."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from aimanager.dal.tables import UserItem
from aimanager.models.agent import AllowedDomain
from tests.unit.aws import DEMO_KEY, OTHER_KEY, aws_world, seed_agent, seed_deployment
from tests.unit.control.world import Actor, make_user


@dataclass
class Cast:
    admin: Actor
    ebp: Actor
    sage: Actor
    fabricant: Actor


@pytest.fixture
def cast(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cast]:
    with aws_world(monkeypatch):
        seed_agent(
            deployment_mode="dedicated",
            is_whitelabel_enabled=True,
            whitelabel_config={
                "allow_prompt_override": True,
                "allow_model_override": False,
                "required_branding": True,
                "min_rate_limit": 30,
            },
        )
        cast = Cast(
            admin=make_user("usr_admin", "admin"),
            ebp=make_user("usr_ebp", "editeur", plan="pro", company_name="EBP", deployments_count=1),
            sage=make_user("usr_sage", "editeur", plan="starter", company_name="SAGE", deployments_count=1),
            fabricant=make_user("usr_weber", "fabricant"),
        )
        seed_deployment(DEMO_KEY, editor_id="usr_ebp", deployment_mode="dedicated")
        seed_deployment(OTHER_KEY, [AllowedDomain("www.sage.fr")], editor_id="usr_sage")
        assert UserItem.get("usr_ebp").deployments_count == 1
        yield cast
