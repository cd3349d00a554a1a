"""Who may use a chat session (issue 9): one rule every widget use case applies (decision 0030).

A session is bound to what opened it: its deployment; the share link that opened it (then only a page holding
that link's token reaches it: the page token carries the link's jti); else the site whose page opened it (the
host the allowlist was checked for), so a session id handed to another site's page, or to a page that was not
framed by the site (`#s=` fixation), opens nothing. Pure: the caller's binding comes from the authorizer, the
session's from its record (or from its turn, which carries a copy).
"""

from __future__ import annotations

from dataclasses import dataclass

from aimanager.models.caller import WidgetCaller


@dataclass(frozen=True)
class SessionBinding:
    """What a session (or a turn of it) records about what opened it; None = not recorded (older sessions)."""

    session_id: str
    deployment_key: str
    share_jti: str | None = None
    origin_host: str | None = None


def refusal(session: SessionBinding, caller: WidgetCaller) -> str | None:
    """Why this caller may not use this session (a reason for the log), or None when it may.

    Every refusal is answered as an unknown session (404): a foreign id does not exist for the caller.
    """
    if session.deployment_key != caller.deployment_key:
        return "other_deployment"
    if caller.session_id is not None and caller.session_id != session.session_id:
        return "pinned_elsewhere"  # a share-link page reaches only its own session
    if session.share_jti or caller.share_jti:
        return None if session.share_jti == caller.share_jti else "share_link_token_required"
    if session.origin_host is not None and session.origin_host != caller.origin_host:
        return "other_site"
    return None
