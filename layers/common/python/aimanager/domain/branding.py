"""Branding cascade (spec §15.2A/C, §8.1 step 4): agent default -> deployment -> artisan -> editor link, then the
template variables interpolated. Pure: the caller reads the levels, this decides what the widget shows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aimanager.models.agent import AgentConfig

DEFAULT_WELCOME = "Bonjour ! Comment puis-je vous aider ?"
DEFAULT_PLACEHOLDER = "Posez votre question..."

# Keys whose value is never a template: code or addresses, where braces mean something else (CSS) or nothing.
NOT_TEMPLATES = frozenset({"custom_css", "logo_url", "primary_color", "secondary_color", "avatar_url"})

# `{artisan.name}`-shaped placeholders only: CSS blocks such as `{ color: red }` never match.
_PLACEHOLDER = re.compile(r"\{\s*([a-z_]+(?:\.[a-z_]+)?)\s*\}")
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([.,;:!?)])")


def requires_branding(agent: AgentConfig) -> bool:
    """The "Powered by" mention is forced unless whitelabel_config says required_branding: false, explicitly."""
    return (agent.whitelabel_config or {}).get("required_branding") is not False


@dataclass(frozen=True)
class BrandingLevels:
    """The four levels, lowest priority first. A level absent for this session (no artisan, no link) is empty."""

    agent: Mapping[str, Any] = field(default_factory=dict)  # agent.default_branding
    deployment: Mapping[str, Any] = field(default_factory=dict)  # deployment texts + deployment.branding
    artisan: Mapping[str, Any] = field(default_factory=dict)  # the artisan user's branding
    editor_link: Mapping[str, Any] = field(default_factory=dict)  # the artisan <-> editor link's branding

    def in_order(self) -> tuple[Mapping[str, Any], ...]:
        return (self.agent, self.deployment, self.artisan, self.editor_link)


@dataclass(frozen=True)
class BrandingVariables:
    """Values of the template variables; None when unknown for this session (the placeholder is then removed)."""

    artisan_name: str | None = None
    artisan_phone: str | None = None
    user_name: str | None = None
    user_company_name: str | None = None
    client_name: str | None = None  # "client" of older spec sections = the editor (§17)
    agent_name: str | None = None

    def as_mapping(self) -> dict[str, str | None]:
        return {
            "artisan.name": self.artisan_name,
            "artisan.phone": self.artisan_phone,
            "user.name": self.user_name,
            "user.company_name": self.user_company_name,
            "client.name": self.client_name,
            "agent.name": self.agent_name,
        }


def interpolate(template: str, variables: BrandingVariables) -> str:
    """Known variables replaced by their value; unknown variables and missing values removed, then the spaces
    a removal leaves behind tidied ("l'assistant de {artisan.name}." -> "l'assistant de." never "de  .")."""
    values = variables.as_mapping()

    def _value(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return value.strip() if isinstance(value, str) else ""

    text = _PLACEHOLDER.sub(_value, template)
    if text == template:
        return text
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", text))
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def _usable(key: str, value: Any, variables: BrandingVariables) -> Any:
    """The level's value as shown, or None when it sets nothing (null, blank, or a text that interpolation empties:
    the lower level's value then stands)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value if key in NOT_TEMPLATES else interpolate(value, variables)
        return value if value.strip() else None
    return value


def merge_levels(levels: BrandingLevels, variables: BrandingVariables) -> dict[str, Any]:
    """Each key from the most specific level that sets it, texts interpolated."""
    merged: dict[str, Any] = {}
    for level in levels.in_order():
        for key, value in level.items():
            usable = _usable(key, value, variables)
            if usable is not None:
                merged[key] = usable
    return merged


def resolve_branding(
    levels: BrandingLevels, variables: BrandingVariables, *, required_branding: bool
) -> dict[str, Any]:
    """The merged, interpolated branding; `required_branding` (the agent's whitelabel_config) forces "Powered by"
    whatever any level says. Welcome message and placeholder always have a value."""
    out = merge_levels(levels, variables)
    out["powered_by"] = True if required_branding else out.get("powered_by", True) is not False
    out.setdefault("welcome_message", DEFAULT_WELCOME)
    out.setdefault("placeholder", DEFAULT_PLACEHOLDER)
    return out
