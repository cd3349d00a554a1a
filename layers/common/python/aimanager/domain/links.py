"""An artisan's link to an editor (§17.3 user_editor_links) and the artisan's consent to it (decision 0029).

A link the artisan consented to is `active`: an editor creating the artisan's account (create-and-link), the
artisan redeeming the editor's link code, or the artisan accepting the editor's invitation. A link an editor
asked for by email is `pending` until then and gives the editor nothing; the artisan may decline it, and an
unanswered invitation expires. Pure rules, no I/O.
"""

from __future__ import annotations

from typing import Literal

LinkStatus = Literal["active", "pending", "declined", "expired", "inactive"]
INVITATION_TTL_S = 30 * 86400
NOBODY_PREFIX = "nobody#"  # the artisan id of an invitation to an email that has no artisan account


def link_status(*, is_active: bool, status: str | None, invite_expires_at: str | None, now: str) -> LinkStatus:
    """What a link is now. `status` absent = active (links made before consent existed were all consented)."""
    if status == "declined":
        return "declined"
    if status == "pending":
        return "expired" if invite_expires_at is not None and invite_expires_at <= now else "pending"
    return "active" if is_active else "inactive"


def is_usable(*, is_active: bool, status: str | None) -> bool:
    """Whether a link gives its editor anything (bearers, share links, branding, sessions): consented and on."""
    return is_active and status in (None, "active")


def nobody(link_id: str) -> str:
    return NOBODY_PREFIX + link_id


def names_an_artisan(artisan_id: str) -> bool:
    return not artisan_id.startswith(NOBODY_PREFIX)
