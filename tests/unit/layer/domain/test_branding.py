"""Branding cascade (spec §15.2A/C): every level's priority, every variable, missing and unknown variables."""

from __future__ import annotations

from typing import Any

import pytest

from aimanager.domain.branding import (
    DEFAULT_PLACEHOLDER,
    DEFAULT_WELCOME,
    BrandingLevels,
    BrandingVariables,
    interpolate,
    resolve_branding,
)

DURANT = BrandingVariables(
    artisan_name="Durant Peinture",
    artisan_phone="06 12 34 56 78",
    user_name="Durant Peinture",
    user_company_name="Durant SARL",
    client_name="EBP",
    agent_name="Expert BTP",
)
NOBODY = BrandingVariables(agent_name="Expert BTP")

AGENT = {"chat_title": "Expert BTP", "primary_color": "#111111", "welcome_message": "Bonjour (agent)"}
DEPLOYMENT = {"chat_title": "Assistant EBP", "primary_color": "#222222"}
ARTISAN = {"primary_color": "#333333", "welcome_message": "Bonjour, je suis l'assistant de {artisan.name}"}
LINK = {"primary_color": "#444444"}


@pytest.mark.parametrize(
    ("levels", "key", "value"),
    [
        (BrandingLevels(agent=AGENT), "primary_color", "#111111"),
        (BrandingLevels(agent=AGENT, deployment=DEPLOYMENT), "primary_color", "#222222"),
        (BrandingLevels(agent=AGENT, deployment=DEPLOYMENT, artisan=ARTISAN), "primary_color", "#333333"),
        (
            BrandingLevels(agent=AGENT, deployment=DEPLOYMENT, artisan=ARTISAN, editor_link=LINK),
            "primary_color",
            "#444444",
        ),
        # a level that does not set a key inherits it from below
        (
            BrandingLevels(agent=AGENT, deployment=DEPLOYMENT, artisan=ARTISAN, editor_link=LINK),
            "chat_title",
            "Assistant EBP",
        ),
        (BrandingLevels(agent=AGENT, artisan=ARTISAN), "chat_title", "Expert BTP"),
        # null or blank means "not set here"
        (BrandingLevels(agent=AGENT, deployment={"primary_color": None}), "primary_color", "#111111"),
        (BrandingLevels(agent=AGENT, deployment={"primary_color": "  "}), "primary_color", "#111111"),
        # the link's level is above the artisan's (the artisan's look at this editor)
        (
            BrandingLevels(artisan={"welcome_message": "A"}, editor_link={"welcome_message": "L"}),
            "welcome_message",
            "L",
        ),
    ],
)
def test_each_level_overrides_the_ones_below(levels: BrandingLevels, key: str, value: Any) -> None:
    assert resolve_branding(levels, DURANT, required_branding=False)[key] == value


@pytest.mark.parametrize(
    ("template", "variables", "expected"),
    [
        ("{artisan.name}", DURANT, "Durant Peinture"),
        ("{artisan.phone}", DURANT, "06 12 34 56 78"),
        ("{user.name}", DURANT, "Durant Peinture"),
        ("{user.company_name}", DURANT, "Durant SARL"),
        ("{client.name}", DURANT, "EBP"),
        ("{agent.name}", DURANT, "Expert BTP"),
        ("{ artisan.name }", DURANT, "Durant Peinture"),
        (
            "Assistant {client.name} - {artisan.name} ({artisan.phone})",
            DURANT,
            "Assistant EBP - Durant Peinture (06 12 34 56 78)",
        ),
        # missing values: the placeholder goes, and the spaces it leaves
        ("Bonjour, je suis l'assistant de {artisan.name}.", NOBODY, "Bonjour, je suis l'assistant de."),
        ("Appelez {artisan.phone} ou écrivez-nous", NOBODY, "Appelez ou écrivez-nous"),
        ("{artisan.name}", NOBODY, ""),
        # unknown variables: removed, never shown raw
        ("Bonjour {artisan.email} !", DURANT, "Bonjour!"),
        ("Bonjour {secret}", DURANT, "Bonjour"),
        ("{artisan.name} {user.password}", DURANT, "Durant Peinture"),
        # no placeholder: untouched (spacing included)
        ("Bonjour  !", DURANT, "Bonjour  !"),
        # not a placeholder: CSS-looking braces stay
        ("a { color: red }", DURANT, "a { color: red }"),
        # values are inserted once: a value that looks like a placeholder is not expanded again
        ("{artisan.name}", BrandingVariables(artisan_name="{client.name}", client_name="EBP"), "{client.name}"),
    ],
)
def test_interpolation(template: str, variables: BrandingVariables, expected: str) -> None:
    assert interpolate(template, variables) == expected


def test_journey_greeting_names_the_artisan() -> None:
    # Given EBP's deployment and Durant's link to EBP with a templated welcome
    levels = BrandingLevels(
        agent={"chat_title": "Expert BTP"},
        deployment={"chat_title": "Assistant EBP", "welcome_message": "Bonjour, je suis l'assistant EBP."},
        editor_link={
            "welcome_message": "Bonjour, je suis l'assistant de {artisan.name}. Appelez-nous au {artisan.phone}."
        },
    )
    # When resolved for a session of Durant
    out = resolve_branding(levels, DURANT, required_branding=True)
    # Then the greeting reads "assistant de Durant Peinture"
    assert out["welcome_message"] == "Bonjour, je suis l'assistant de Durant Peinture. Appelez-nous au 06 12 34 56 78."


def test_a_text_emptied_by_interpolation_falls_back_to_the_level_below() -> None:
    levels = BrandingLevels(deployment={"chat_title": "Assistant EBP"}, editor_link={"chat_title": "{artisan.name}"})
    assert resolve_branding(levels, NOBODY, required_branding=False)["chat_title"] == "Assistant EBP"


def test_non_template_keys_are_never_interpolated() -> None:
    css = ".x { color: red } .y{artisan.name}"
    out = resolve_branding(
        BrandingLevels(deployment={"custom_css": css, "logo_url": "https://x/{artisan.name}.png"}),
        DURANT,
        required_branding=False,
    )
    assert out["custom_css"] == css and out["logo_url"] == "https://x/{artisan.name}.png"


@pytest.mark.parametrize(
    ("required", "levels", "powered_by"),
    [
        (True, BrandingLevels(deployment={"powered_by": False}), True),
        (True, BrandingLevels(editor_link={"powered_by": False}), True),
        (True, BrandingLevels(), True),
        (False, BrandingLevels(deployment={"powered_by": False}), False),
        (False, BrandingLevels(deployment={"powered_by": False}, artisan={"powered_by": True}), True),
        (False, BrandingLevels(), True),
        (False, BrandingLevels(deployment={"powered_by": "no"}), True),  # only a real false hides it
    ],
)
def test_required_branding_forces_powered_by(required: bool, levels: BrandingLevels, powered_by: bool) -> None:
    assert resolve_branding(levels, DURANT, required_branding=required)["powered_by"] is powered_by


def test_welcome_and_placeholder_always_have_a_value() -> None:
    out = resolve_branding(BrandingLevels(), NOBODY, required_branding=False)
    assert (out["welcome_message"], out["placeholder"]) == (DEFAULT_WELCOME, DEFAULT_PLACEHOLDER)
