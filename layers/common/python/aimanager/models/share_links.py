"""Share links (§15.2B): an editor creates a signed, expiring chat link for one of its artisans."""

from __future__ import annotations

from pydantic import BaseModel, Field

from aimanager.models.artisans import EXTERNAL_ID
from aimanager.models.widget import Context, StrictModel


class CreateLinkIn(StrictModel):
    deployment_key: str = Field(min_length=1, max_length=64)
    artisan_external_id: str = Field(min_length=1, max_length=100, pattern=EXTERNAL_ID)
    context: Context = Field(default=None, description="At most 4 KB of JSON, given to the agent.")
    expires_in: int = Field(default=7 * 86400, ge=60, le=30 * 86400, description="Seconds, 1 min to 30 days.")


class ShareLinkOut(BaseModel):
    link_id: str = Field(description="The token's id: revoke with DELETE /api/editor/sessions/links/{link_id}.")
    session_id: str
    session_token: str
    url: str
    expires_at: str


class RevokedOut(BaseModel):
    link_id: str
    revoked: bool = True
