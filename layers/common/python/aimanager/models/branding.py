"""The branding cascade's inputs as read from the tables: the users around a session and the editor link."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Party:
    """A user as branding sees it: an editor (its name is `{client.name}`) or an artisan (`{artisan.*}`)."""

    user_id: str
    name: str | None = None
    company_name: str | None = None
    phone: str | None = None
    branding: dict[str, Any] = field(default_factory=dict)
    is_active: bool = True


@dataclass(frozen=True)
class EditorLinkView:
    """An artisan <-> editor link (§17.3 user_editor_links), as far as branding needs it."""

    link_id: str
    artisan_id: str
    editor_id: str
    branding: dict[str, Any] = field(default_factory=dict)
    is_active: bool = True
