"""The session rule (issue 9, decision 0030): who may use a session, table-driven."""

from __future__ import annotations

import pytest

from aimanager.domain.session_access import SessionBinding, refusal
from aimanager.models.caller import WidgetCaller

KEY = "dpl_a"


def caller(**fields: str | None) -> WidgetCaller:
    base: dict[str, str | None] = {"origin_host": "app.ebp.fr", "session_id": None, "share_jti": None}
    base.update(fields)
    return WidgetCaller(
        deployment_key=str(base.pop("deployment_key", KEY)), agent_id="a", editor_id="e", origin=None, **base
    )


EMBEDDED = SessionBinding("sess_1", KEY, origin_host="app.ebp.fr")
LEGACY = SessionBinding("sess_1", KEY)  # opened before sessions recorded their site
SHARED = SessionBinding("sess_1", KEY, share_jti="jti_1")


@pytest.mark.parametrize(
    ("session", "who", "expected"),
    [
        # the site that opened it
        (EMBEDDED, caller(), None),
        (EMBEDDED, caller(origin_host="shop.ebp.fr"), "other_site"),
        (EMBEDDED, caller(origin_host=None), "other_site"),
        (EMBEDDED, caller(deployment_key="dpl_b"), "other_deployment"),
        (LEGACY, caller(origin_host="shop.ebp.fr"), None),
        # a share-link session: only its link's page
        (SHARED, caller(), "share_link_token_required"),
        (SHARED, caller(origin_host=None, session_id="sess_1", share_jti="jti_1"), None),
        (SHARED, caller(origin_host=None, session_id="sess_1", share_jti="jti_2"), "share_link_token_required"),
        (SHARED, caller(origin_host=None, session_id="sess_2", share_jti="jti_1"), "pinned_elsewhere"),
        # a share-link page never reaches an embedded session
        (EMBEDDED, caller(origin_host=None, session_id="sess_1", share_jti="jti_1"), "share_link_token_required"),
        (LEGACY, caller(origin_host=None, session_id="sess_1", share_jti="jti_1"), "share_link_token_required"),
    ],
)
def test_who_may_use_a_session(session: SessionBinding, who: WidgetCaller, expected: str | None) -> None:
    assert refusal(session, who) == expected
