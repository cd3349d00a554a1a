"""Widget init shows the resolved config and branding cascade (spec §15.2C): agent, deployment, artisan, link."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from aimanager.dal.tables import AgentItem, DeploymentItem, SessionItem, UserEditorLinkItem, UserItem
from aimanager.ids import utc_now
from aimanager.services import branding as branding_service
from tests.conftest import load_event
from tests.unit.aws import AGENT_ID, DEMO_KEY, World, aws_world, load_handler, seed_agent, seed_deployment
from tests.unit.functions.test_widget_flow import Ctx

ORIGIN = "https://app.ebp.fr"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with aws_world(monkeypatch) as w:
        seed_agent(default_branding={"chat_title": "Expert BTP", "primary_color": "#1F6FEB"})
        seed_deployment(
            config_overlay={"welcome_message": "Bonjour, je suis l'assistant EBP.", "placeholder": "Vos travaux..."},
            branding={"chat_title": "Assistant EBP", "primary_color": "#0055A4", "powered_by": False},
        )
        UserItem("usr_ebp", email="i@ebp.example", name="EBP", roles="editeur", created_at=utc_now()).save()
        UserItem(
            "usr_durant",
            email="contact@durant.example",
            name="Durant Peinture",
            roles="artisan",
            company_name="Durant Peinture SARL",
            phone="06 12 34 56 78",
            branding={"primary_color": "#E53935"},
            created_at=utc_now(),
        ).save()
        UserEditorLinkItem(
            "lnk_durant_ebp",
            artisan_id="usr_durant",
            editor_id="usr_ebp",
            external_id="DUR-001",
            branding={"welcome_message": "Bonjour, je suis l'assistant de {artisan.name} ({client.name})."},
            is_active=True,
            linked_at=utc_now(),
        ).save()
        yield w


def share_link_session(link_id: str = "lnk_durant_ebp", artisan_id: str = "usr_durant") -> str:
    """A session as the share-link flow (issue 5) creates it: carrying the artisan and the link."""
    now = utc_now()
    SessionItem(
        "ses_share_1",
        deployment_key=DEMO_KEY,
        agent_id=AGENT_ID,
        editor_id="usr_ebp",
        artisan_id=artisan_id,
        link_id=link_id,
        created_at=now,
        last_activity_at=now,
    ).save()
    return "ses_share_1"


def init(session_id: str | None = None) -> dict[str, Any]:
    event = load_event("widget_init/valid.json")
    event["headers"]["Origin"] = ORIGIN
    event["body"] = json.dumps({"deployment_key": DEMO_KEY, **({"session_id": session_id} if session_id else {})})
    resp = load_handler("widget_init").handler(event, Ctx())
    assert resp["statusCode"] in (200, 201), resp["body"]
    return json.loads(resp["body"])["data"]  # type: ignore[no-any-return]


def test_a_plain_widget_session_gets_the_deployment_branding(world: World) -> None:
    # Given EBP's deployment over Expert BTP (required_branding on)
    # When the widget opens a session
    data = init()
    # Then the deployment's title, colour and texts show, and "Powered by" stays (required by the master)
    assert data["branding"]["title"] == "Assistant EBP"
    assert data["branding"]["primary_color"] == "#0055A4"
    assert data["branding"]["powered_by"] is True
    assert data["welcome_message"] == "Bonjour, je suis l'assistant EBP."
    assert data["placeholder"] == "Vos travaux..."


def test_a_share_link_session_greets_with_the_artisans_name(world: World) -> None:
    # Given a share-link session of Durant Peinture, linked to EBP
    session_id = share_link_session()
    # When the standalone page resumes it
    data = init(session_id)
    # Then the greeting reads "assistant de Durant Peinture", in the artisan's colour
    assert data["resumed"] is True
    assert data["welcome_message"] == "Bonjour, je suis l'assistant de Durant Peinture (EBP)."
    assert data["branding"]["primary_color"] == "#E53935"
    assert data["branding"]["title"] == "Assistant EBP"


@pytest.mark.parametrize(
    ("link_id", "artisan_id", "link_change"),
    [
        ("lnk_unknown", "usr_durant", {}),  # unknown link: the artisan's level only
        ("lnk_durant_ebp", "usr_durant", {"is_active": False}),  # inactive link
        ("lnk_durant_ebp", "usr_durant", {"editor_id": "usr_sage"}),  # another editor's link
    ],
)
def test_a_link_that_does_not_join_this_artisan_to_this_editor_is_ignored(
    world: World, link_id: str, artisan_id: str, link_change: dict[str, Any]
) -> None:
    if link_change:
        link = UserEditorLinkItem.get("lnk_durant_ebp")
        for name, value in link_change.items():
            setattr(link, name, value)
        link.save()
    data = init(share_link_session(link_id, artisan_id))
    assert data["welcome_message"] == "Bonjour, je suis l'assistant EBP."
    assert data["branding"]["primary_color"] == "#E53935"  # the artisan's own level still applies


def test_a_change_at_any_level_is_seen_on_the_next_init_despite_the_cache(world: World) -> None:
    # Given a share-link session whose branding is now cached in this container
    session_id = share_link_session()
    first = init(session_id)
    assert first["welcome_message"] == "Bonjour, je suis l'assistant de Durant Peinture (EBP)."
    assert len(branding_service._cache) == 1
    # When the same request comes again, Then it is served from the cache (no new entry)
    assert init(session_id) == first and len(branding_service._cache) == 1

    # When the artisan renames itself, Then the next init shows the new name
    artisan = UserItem.get("usr_durant")
    artisan.name = "Durant & Fils"
    artisan.save()
    assert init(session_id)["welcome_message"] == "Bonjour, je suis l'assistant de Durant & Fils (EBP)."

    # When the link's branding changes
    link = UserEditorLinkItem.get("lnk_durant_ebp")
    link.branding = {"welcome_message": "Salut de {artisan.name}", "primary_color": "#00AA00"}
    link.save()
    data = init(session_id)
    assert (data["welcome_message"], data["branding"]["primary_color"]) == ("Salut de Durant & Fils", "#00AA00")

    # When the deployment changes its title
    deployment = DeploymentItem.get(DEMO_KEY)
    deployment.branding = {"chat_title": "EBP Bâtiment"}
    deployment.save()
    assert init(session_id)["branding"]["title"] == "EBP Bâtiment"

    # When the agent stops requiring "Powered by" and the deployment hides it
    agent = AgentItem.get(AGENT_ID)
    agent.whitelabel_config = {"required_branding": False}
    agent.save()
    deployment.branding = {"chat_title": "EBP Bâtiment", "powered_by": False}
    deployment.save()
    assert init(session_id)["branding"]["powered_by"] is False

    # When the editor renames itself
    editor = UserItem.get("usr_ebp")
    editor.company_name = "EBP Informatique"
    editor.save()
    link.branding = {"welcome_message": "{client.name}"}
    link.save()
    assert init(session_id)["welcome_message"] == "EBP Informatique"


def test_cached_entries_expire_after_five_minutes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a cached branding
    init()
    ((key, (expires, _)),) = branding_service._cache.items()
    now = time.monotonic()
    # Then it lives at most BRANDING_CACHE_TTL_S, which is at most 5 minutes
    assert branding_service.BRANDING_CACHE_TTL_S <= 300
    assert now < expires <= now + 300
    # And once expired it is recomputed, not served
    branding_service._cache[key] = (now - 1, {"welcome_message": "stale", "placeholder": "stale"})
    assert init()["welcome_message"] == "Bonjour, je suis l'assistant EBP."
