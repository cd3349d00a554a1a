"""Users (§17.3) and agents (§3.5, §12) as the admin API takes and returns them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from aimanager.models.config import BrandingIn
from aimanager.models.widget import StrictModel

Plan = Literal["starter", "pro", "business", "enterprise"]
Role = Literal["admin", "editeur", "artisan", "particulier", "metreur", "fabricant"]
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"


class UserBrandingIn(BrandingIn):
    """A user's (artisan's) own default branding, or an editor link's (§15.2A): the shared keys plus a signature."""

    signature: str | None = Field(default=None, max_length=200)


class CompanyInfo(StrictModel):
    siret: str | None = Field(default=None, pattern=r"^\d{14}$")
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=50)
    website: str | None = Field(default=None, max_length=300)


class QuotaFields(StrictModel):
    plan: Plan | None = None
    max_deployments: int | None = Field(default=None, ge=0, description="null = the plan's default")
    max_sessions_month: int | None = Field(default=None, ge=0)
    max_messages_month: int | None = Field(default=None, ge=0)


class UserIn(QuotaFields):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    name: str = Field(min_length=1, max_length=255)
    company_name: str | None = Field(default=None, max_length=255)
    company_info: CompanyInfo | None = None
    phone: str | None = Field(default=None, max_length=50)
    branding: UserBrandingIn | None = None
    marketplace_enabled: bool = False


class AdminUserIn(UserIn):
    roles: list[Role] = Field(
        min_length=1, description="Any of the six roles; an API key is issued to admin, editeur and fabricant users."
    )


class UserUpdate(QuotaFields):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    company_name: str | None = Field(default=None, max_length=255)
    company_info: CompanyInfo | None = None
    phone: str | None = Field(default=None, max_length=50)
    branding: UserBrandingIn | None = None
    marketplace_enabled: bool | None = None
    is_active: bool | None = None


class Limits(BaseModel):
    max_deployments: int | None = None  # None = unlimited (enterprise)
    max_sessions_month: int | None = None  # None = unlimited (enterprise)
    max_messages_month: int | None = None  # None = unlimited (enterprise)


class UserOut(BaseModel):
    user_id: str
    email: str
    name: str | None = None
    roles: list[str]
    company_name: str | None = None
    company_info: dict[str, Any] | None = None
    phone: str | None = None
    branding: dict[str, Any] | None = None
    marketplace_enabled: bool = False
    plan: str | None = None
    limits: Limits | None = Field(default=None, description="Effective limits: own values, else the plan's.")
    api_key_prefix: str | None = None
    api_key: str | None = Field(default=None, description="The whole key: returned once, at creation or rotation.")
    is_active: bool = True
    created_at: str


class UserList(BaseModel):
    items: list[UserOut]


class ApiKeyOut(BaseModel):
    user_id: str
    api_key: str = Field(description="Shown once: only its hash is stored.")
    api_key_prefix: str


class WhitelabelConfig(StrictModel):
    allow_prompt_override: bool = False
    allow_rag_override: bool = False
    allow_model_override: bool = False
    required_branding: bool = True
    min_rate_limit: int = Field(default=30, ge=1, le=10_000)


class AgentFields(StrictModel):
    description: str | None = Field(default=None, max_length=2000)
    fallback_model: str | None = Field(default=None, max_length=100)
    qdrant_collection: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    is_whitelabel_enabled: bool | None = None
    whitelabel_config: WhitelabelConfig | None = None
    output_schemas: dict[str, Any] | None = None
    default_branding: BrandingIn | None = None
    avatar_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")


class AgentIn(AgentFields):
    name: str = Field(min_length=1, max_length=255)
    slug: str = Field(min_length=2, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
    system_prompt: str = Field(min_length=1, max_length=50_000)
    model: str = Field(min_length=1, max_length=100)
    temperature: float = Field(default=0.7, ge=0.1, le=1.5)
    max_tokens: int = Field(default=1024, ge=1, le=32_768)
    context_window_size: int = Field(default=10, ge=0, le=20)
    deployment_mode: Literal["internal", "shared", "dedicated"] = "internal"


class AgentUpdate(AgentFields):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    system_prompt: str | None = Field(default=None, min_length=1, max_length=50_000)
    model: str | None = Field(default=None, min_length=1, max_length=100)
    temperature: float | None = Field(default=None, ge=0.1, le=1.5)
    max_tokens: int | None = Field(default=None, ge=1, le=32_768)
    context_window_size: int | None = Field(default=None, ge=0, le=20)
    deployment_mode: Literal["internal", "shared", "dedicated"] | None = None
    is_active: bool | None = None


class AgentDetail(BaseModel):
    agent_id: str
    name: str
    slug: str | None = None
    description: str | None = None
    system_prompt: str
    model: str
    fallback_model: str | None = None
    temperature: float
    max_tokens: int
    context_window_size: int
    qdrant_collection: str | None = None
    deployment_mode: str
    is_whitelabel_enabled: bool
    whitelabel_config: dict[str, Any] | None = None
    output_schemas: dict[str, Any] | None = None
    default_branding: dict[str, Any] | None = None
    avatar_url: str | None = None
    is_active: bool
    created_at: str


class AgentList(BaseModel):
    items: list[AgentDetail]
