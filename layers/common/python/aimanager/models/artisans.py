"""Artisans and their links to editors (§15.2A, §17.3 user_editor_links), link codes and bearer tokens."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from aimanager.models.users import EMAIL_PATTERN, CompanyInfo, UserBrandingIn
from aimanager.models.widget import StrictModel

EXTERNAL_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"


class LinkPermissions(StrictModel):
    can_create_sessions: bool = True
    can_view_analytics: bool = False
    max_sessions_month: int | None = Field(default=None, ge=0, description="null = no per-artisan limit")


class LinkFields(StrictModel):
    external_id: str = Field(
        min_length=1,
        max_length=100,
        pattern=EXTERNAL_ID,
        description="The artisan's id in the editor's software, unique per editor.",
    )
    branding: UserBrandingIn | None = Field(default=None, description="This editor's branding for the artisan.")
    permissions: LinkPermissions | None = None


class LinkArtisanIn(LinkFields):
    """Scenario 1: an invitation to the AI-Manager account with this email, pending until the artisan accepts it
    (decision 0029); answered alike whether or not such an account exists."""

    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)


class CreateAndLinkIn(LinkFields):
    """Scenario 2: the artisan has no account: created with role artisan, then linked."""

    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    name: str = Field(min_length=1, max_length=255)
    company_name: str | None = Field(default=None, max_length=255)
    company_info: CompanyInfo | None = None
    phone: str | None = Field(default=None, max_length=50)
    artisan_branding: UserBrandingIn | None = Field(default=None, description="The artisan's own default branding.")
    send_invitation: bool = Field(
        default=False,
        description="Send the artisan its AI-Manager invitation: an `artisan.invited` event for your webhooks.",
    )


class LinkCodeIn(LinkFields):
    """Scenario 3: a code the editor gives the artisan, who redeems it from its own account."""

    expires_in: int = Field(default=7 * 86400, ge=300, le=30 * 86400, description="Seconds, 5 min to 30 days.")


class LinkCodeOut(BaseModel):
    code: str
    external_id: str
    expires_at: str


class RedeemCodeIn(StrictModel):
    code: str = Field(min_length=1, max_length=32)


LinkStatusOut = Literal["active", "pending", "declined", "expired", "inactive"]


class ArtisanLinkOut(BaseModel):
    """A link as its editor sees it. Until the artisan accepts (`pending`), it names nobody: `artisan_id`, `name`,
    `company_name` and `phone` are null and `email` is the one the editor typed."""

    link_id: str
    artisan_id: str | None = None
    editor_id: str
    external_id: str
    status: LinkStatusOut
    name: str | None = None
    company_name: str | None = None
    email: str | None = None
    phone: str | None = None
    branding: dict[str, Any] = Field(default_factory=dict)
    permissions: dict[str, Any] = Field(default_factory=dict)
    is_active: bool
    linked_at: str
    expires_at: str | None = Field(default=None, description="A pending invitation: when it expires unanswered.")


class ArtisanList(BaseModel):
    items: list[ArtisanLinkOut]


class EditorOfArtisan(BaseModel):
    link_id: str
    editor_id: str
    editor_name: str | None = None
    company_name: str | None = None
    external_id: str
    branding: dict[str, Any] = Field(default_factory=dict)
    permissions: dict[str, Any] = Field(default_factory=dict)
    is_active: bool
    linked_at: str


class EditorOfArtisanList(BaseModel):
    items: list[EditorOfArtisan]


class BearerIn(StrictModel):
    expires_in: int = Field(default=3600, ge=60, le=86400, description="Seconds, 1 min to 24 h.")


class BearerOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    artisan_id: str
    expires_at: str


class ArtisanSessionOut(BaseModel):
    session_id: str
    deployment_key: str
    editor_id: str
    link_id: str | None = None
    context: dict[str, Any] | None = None
    messages_count: int = 0
    created_at: str
    last_activity_at: str
    share_expires_at: str | None = None


class ArtisanSessionList(BaseModel):
    items: list[ArtisanSessionOut]


class ArtisanBrandingOut(BaseModel):
    """The artisan's branding at the editor whose bearer is used: that editor's link override (§15.2A), shown to
    that editor's customers only; never the artisan's own default branding nor another editor's."""

    user_id: str
    editor_id: str
    link_id: str
    branding: dict[str, Any] = Field(default_factory=dict)


class InvitationOut(BaseModel):
    """An editor asks to link the artisan (link by email): it gives that editor nothing until accepted."""

    invitation_id: str
    editor_name: str | None = None
    company_name: str | None = None
    status: Literal["pending", "active", "declined"]
    invited_at: str
    expires_at: str | None = None


class InvitationList(BaseModel):
    items: list[InvitationOut]
