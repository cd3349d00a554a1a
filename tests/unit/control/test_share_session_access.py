"""Issue 9 item 2, attacked as an outsider: a share-link session is reachable only with that link's valid token.

The share URL's payload is readable by anyone who sees the URL (it names `session_id` and `deployment_key`);
the deployment key is public anyway. Neither may open the session: only the page the link serves (its page
token carries the link's jti), and only while the link is neither revoked nor expired.
"""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest
from PIL import Image

from aimanager.dal.tables import ShareLinkItem
from tests.unit.aws import DEMO_KEY
from tests.unit.control.conftest import Cast
from tests.unit.control.test_artisans import create_durant
from tests.unit.control.world import call
from tests.unit.widget_client import download, share_page, share_payload, widget_call

ALLOWED_SITE = "https://app.ebp.fr"  # on the deployment's allowlist: any curl can claim it


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(out, format="JPEG")
    return out.getvalue()


def a_share_link(cast: Cast, **overrides: Any) -> dict[str, Any]:
    create_durant(cast)
    body = {
        "deployment_key": DEMO_KEY,
        "artisan_external_id": "DUR-001",
        "context": {"client": "M. Martin", "phone": "06 00 00 00 00"},
        **overrides,
    }
    reply = call(cast.ebp, "POST", "/api/editor/sessions/create-link", body)
    assert reply.status == 201, reply.body
    return reply.data  # type: ignore[no-any-return]


def customer_page(link: dict[str, Any]) -> str:
    """M. Martin opens the link: the page token his chat app sends."""
    status, config = share_page(link["session_token"])
    assert status == 200, config
    return str(config["tok"])


def customer_says(page_token: str, session_id: str, text: str) -> str:
    sent = widget_call(
        "POST",
        "/api/widget/v1/message",
        key=DEMO_KEY,
        page_token=page_token,
        session_id=session_id,
        body={"content": text},
    )
    assert sent.status == 202, sent.body
    return str(sent.data["message_id"])


def customer_uploads(page_token: str, session_id: str) -> dict[str, Any]:
    grant = widget_call(
        "POST",
        "/api/widget/v1/upload",
        key=DEMO_KEY,
        page_token=page_token,
        session_id=session_id,
        body={"file_name": "sdb.jpg", "content_type": "image/jpeg", "size": len(jpeg())},
    )
    assert grant.status == 201, grant.body
    boto3.client("s3").put_object(Bucket="uploads-bucket", Key=grant.data["upload"]["fields"]["key"], Body=jpeg())
    done = widget_call(
        "POST", f"/api/widget/v1/upload/{grant.data['file_id']}/complete", key=DEMO_KEY, page_token=page_token
    )
    assert done.status == 200, done.body
    return done.data  # type: ignore[no-any-return]


def test_the_share_url_payload_and_an_allowed_origin_do_not_open_the_session(cast: Cast) -> None:
    # Given a share link, and what its URL tells anyone who sees it
    link = a_share_link(cast)
    leaked = share_payload(link["session_token"])
    session_id, key = leaked["session_id"], leaked["deployment_key"]
    assert session_id == link["session_id"]
    customer_says(customer_page(link), session_id, "Ma salle de bain fait 6 m2, au 12 rue des Lilas.")
    # When an outsider uses them from an allowed Origin, without the link's token
    history = widget_call("GET", f"/api/widget/v1/session/{session_id}/messages", key=key, origin=ALLOWED_SITE)
    message = widget_call(
        "POST", "/api/widget/v1/message", key=key, origin=ALLOWED_SITE, session_id=session_id, body={"content": "hi"}
    )
    in_body = widget_call(
        "POST", "/api/widget/v1/message", key=key, origin=ALLOWED_SITE, body={"content": "x", "session_id": session_id}
    )
    upload = widget_call(
        "POST",
        "/api/widget/v1/upload",
        key=key,
        origin=ALLOWED_SITE,
        session_id=session_id,
        body={"file_name": "a.jpg", "content_type": "image/jpeg", "size": 10},
    )
    resumed = widget_call(
        "POST",
        "/api/widget/v1/init",
        key=key,
        origin=ALLOWED_SITE,
        body={"deployment_key": key, "session_id": session_id},
    )
    # Then the session does not exist for them (404, as for any foreign id), and init opens a new one instead
    assert (history.status, history.code) == (404, "session_not_found"), history.body
    assert (message.status, message.code) == (404, "session_not_found"), message.body
    assert (in_body.status, in_body.code) == (404, "session_not_found"), in_body.body
    assert (upload.status, upload.code) == (404, "session_not_found"), upload.body
    assert resumed.status == 201 and resumed.data["session_id"] != session_id, resumed.body


def test_a_message_id_or_a_file_id_of_a_share_session_opens_nothing_without_the_token(cast: Cast) -> None:
    # Given the customer's message and photo (ids an outsider might have seen, e.g. in a log or a screenshot)
    link = a_share_link(cast)
    page_token = customer_page(link)
    message_id = customer_says(page_token, link["session_id"], "Bonjour")
    photo = customer_uploads(page_token, link["session_id"])
    # When polled or completed from an allowed Origin without the link's token
    status = widget_call("GET", f"/api/widget/v1/message/{message_id}/status", key=DEMO_KEY, origin=ALLOWED_SITE)
    complete = widget_call(
        "POST", f"/api/widget/v1/upload/{photo['file_id']}/complete", key=DEMO_KEY, origin=ALLOWED_SITE
    )
    # Then they are unknown
    assert (status.status, status.code) == (404, "message_not_found"), status.body
    assert (complete.status, complete.code) == (404, "file_not_found"), complete.body
    # While the customer's page reaches them
    mine = widget_call("GET", f"/api/widget/v1/message/{message_id}/status", key=DEMO_KEY, page_token=page_token)
    assert mine.status == 200


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_revocation_and_expiry_end_every_access_at_once(cast: Cast, ending: str) -> None:
    # Given an open share page with a message and a photo, whose file URL the page holds
    link = a_share_link(cast)
    page_token = customer_page(link)
    message_id = customer_says(page_token, link["session_id"], "Bonjour")
    photo = customer_uploads(page_token, link["session_id"])
    assert download(photo["url"]).status == 302
    # When EBP revokes the link, or it expires
    if ending == "revoked":
        assert call(cast.ebp, "DELETE", f"/api/editor/sessions/links/{link['link_id']}").status == 200
    else:
        ShareLinkItem(link["link_id"]).update(actions=[ShareLinkItem.expires_at.set("2000-01-01T00:00:00Z")])
    # Then every widget call of the page is refused, and so are the file URLs it already holds
    calls = [
        widget_call(
            "GET", f"/api/widget/v1/session/{link['session_id']}/messages", key=DEMO_KEY, page_token=page_token
        ),
        widget_call("GET", f"/api/widget/v1/message/{message_id}/status", key=DEMO_KEY, page_token=page_token),
        widget_call(
            "POST",
            "/api/widget/v1/message",
            key=DEMO_KEY,
            page_token=page_token,
            session_id=link["session_id"],
            body={"content": "encore"},
        ),
        widget_call("POST", "/api/widget/v1/init", key=DEMO_KEY, page_token=page_token, body={}),
    ]
    assert [c.status for c in calls] == [401, 401, 401, 401], [c.body for c in calls]
    assert download(photo["url"]).status in (401, 404)
    assert download(photo["thumbnail_url"]).status in (401, 404)
    # And the link's page itself is refused
    assert share_page(link["session_token"])[0] == 401
