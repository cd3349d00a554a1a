"""What a deployment may change of its agent (spec §3.3 config_overlay, §12.2): the overlay, its limits, the body
the editor route validates and the OpenAPI document shows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Overlay texts are stored apart from the master prompt (the deployment's config_overlay) and bounded: a long
# overlay would crowd the master's rules out of the model's context (and cost every turn).
MAX_PROMPT_APPEND_CHARS = 2000
MAX_PROMPT_REPLACE_CHARS = 8000
MAX_WELCOME_CHARS = 500
MAX_PLACEHOLDER_CHARS = 120
MAX_MODEL_NAME_CHARS = 100

OVERLAY_TEXT_LIMITS: dict[str, int] = {
    "system_prompt_append": MAX_PROMPT_APPEND_CHARS,
    "system_prompt_replace": MAX_PROMPT_REPLACE_CHARS,
    "welcome_message": MAX_WELCOME_CHARS,
    "placeholder": MAX_PLACEHOLDER_CHARS,
    "model": MAX_MODEL_NAME_CHARS,
}

# Which whitelabel_config flag allows each overlay field (None: always allowed, it is presentation only).
OVERLAY_PERMISSION: dict[str, str | None] = {
    "system_prompt_append": "allow_prompt_override",
    "system_prompt_replace": "allow_prompt_override",
    "model": "allow_model_override",
    "temperature": "allow_model_override",
    "max_tokens": "allow_model_override",
    "welcome_message": None,
    "placeholder": None,
}

# Master limits (spec §12.5, level 1): not negotiable by any deployment.
TEMPERATURE_MIN = 0.1
TEMPERATURE_MAX = 1.5
MAX_CONTEXT_WINDOW = 20
DEFAULT_MIN_RATE_LIMIT = 30  # requests per minute per IP, when the agent's whitelabel_config names none
MAX_TOKENS_CEILING = 8192


class ConfigOverlay(BaseModel):
    """A deployment's config_overlay: every field optional, unknown fields refused, texts length-limited."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    system_prompt_append: str | None = Field(
        default=None,
        max_length=MAX_PROMPT_APPEND_CHARS,
        description="Added after the master prompt (needs allow_prompt_override; dedicated mode).",
    )
    system_prompt_replace: str | None = Field(
        default=None,
        max_length=MAX_PROMPT_REPLACE_CHARS,
        description="Replaces the master prompt; the master's rules (whitelabel_config.master_rules) stay first.",
    )
    welcome_message: str | None = Field(default=None, max_length=MAX_WELCOME_CHARS)
    placeholder: str | None = Field(default=None, max_length=MAX_PLACEHOLDER_CHARS)
    model: str | None = Field(default=None, max_length=MAX_MODEL_NAME_CHARS, description="Needs allow_model_override.")
    temperature: float | None = Field(
        default=None,
        ge=TEMPERATURE_MIN,
        le=TEMPERATURE_MAX,
        description="Needs allow_model_override; master limits 0.1-1.5.",
    )
    max_tokens: int | None = Field(
        default=None, ge=1, le=MAX_TOKENS_CEILING, description="Needs allow_model_override; at most the master's."
    )


MAX_TITLE_CHARS = 80
MAX_URL_CHARS = 500
MAX_CUSTOM_CSS_CHARS = 4000


class BrandingIn(BaseModel):
    """A deployment's (or a link's) branding as an editor writes it: known keys only, bounded, no markup in CSS.
    Texts may use the variables {artisan.name}, {artisan.phone}, {user.name}, {user.company_name}, {client.name},
    {agent.name}."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    chat_title: str | None = Field(default=None, max_length=MAX_TITLE_CHARS)
    primary_color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$", description="#RRGGBB")
    logo_url: str | None = Field(default=None, max_length=MAX_URL_CHARS, pattern=r"^https://\S+$")
    welcome_message: str | None = Field(default=None, max_length=MAX_WELCOME_CHARS)
    placeholder: str | None = Field(default=None, max_length=MAX_PLACEHOLDER_CHARS)
    powered_by: bool | None = Field(default=None, description="false is refused where the agent requires branding.")
    custom_css: str | None = Field(
        default=None, max_length=MAX_CUSTOM_CSS_CHARS, pattern=r"^[^<>]*$", description="No markup: < and > refused."
    )
