"""The API-key / bearer authorizer (§16.5): hashed keys, constant-time compare, immediate revocation, bearer scope."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from aimanager.adapters.secrets import signing_secret
from aimanager.domain.tokens import sign
from tests.conftest import load_event
from tests.unit.aws import load_handler
from tests.unit.control.conftest import Cast
from tests.unit.control.world import Ctx, call


def authorize(headers: dict[str, str], resource: str = "/api/editor/deployments") -> dict[str, Any]:
    event = copy.deepcopy(load_event("api_key_authorizer/request.json"))
    event["headers"] = headers
    event["resource"] = event["path"] = resource
    return load_handler("api_key_authorizer").handler(event, Ctx())  # type: ignore[no-any-return]


def refused(headers: dict[str, str], resource: str = "/api/editor/deployments") -> bool:
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(headers, resource)
    return True


def test_a_valid_editor_key_puts_user_and_roles_in_the_context(cast: Cast) -> None:
    assert cast.ebp.api_key
    result = authorize({"X-API-Key": cast.ebp.api_key})
    assert result["principalId"] == "usr_ebp"
    assert result["context"] == {"user_id": "usr_ebp", "roles": "editeur", "auth": "api_key"}
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_header_names_are_case_insensitive(cast: Cast) -> None:
    assert cast.admin.api_key
    assert authorize({"x-api-key": cast.admin.api_key})["context"]["roles"] == "admin"


@pytest.mark.parametrize(
    "key",
    ["", "edk_test_abc", "not-a-key", "x" * 500, "edk_test_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_000000"],
)
def test_missing_malformed_or_unknown_keys_are_401(cast: Cast, key: str) -> None:
    assert refused({"X-API-Key": key})


def test_a_key_with_a_valid_checksum_but_another_secret_is_401(cast: Cast) -> None:
    # Same prefix as EBP's key, different random part: found by prefix, refused by the hash
    from aimanager.domain.api_keys import _checksum

    assert cast.ebp.api_key
    body = cast.ebp.api_key.rsplit("_", 1)[0]
    forged_body = body[:-4] + ("aaaa" if not body.endswith("aaaa") else "bbbb")
    assert refused({"X-API-Key": f"{forged_body}_{_checksum(forged_body)}"})


def test_rotation_and_revocation_take_effect_on_the_next_request(cast: Cast) -> None:
    assert cast.ebp.api_key
    old = cast.ebp.api_key
    # When the admin rotates EBP's key
    rotated = call(cast.admin, "POST", "/api/admin/users/usr_ebp/api-key")
    assert rotated.status == 201
    new = rotated.data["api_key"]
    assert new.startswith("edk_live_") and new != old
    # Then the old key is refused at once and the new one works
    assert refused({"X-API-Key": old})
    assert authorize({"X-API-Key": new})["principalId"] == "usr_ebp"
    # When the admin revokes it, it is refused at once
    assert call(cast.admin, "DELETE", "/api/admin/users/usr_ebp/api-key").status == 200
    assert refused({"X-API-Key": new})


def test_a_deactivated_user_is_refused(cast: Cast) -> None:
    assert cast.sage.api_key
    assert call(cast.admin, "DELETE", "/api/admin/editors/usr_sage").status == 200
    assert refused({"X-API-Key": cast.sage.api_key})


def durant_bearer(cast: Cast, ttl_s: int = 600) -> tuple[str, str]:
    """(artisan id, a bearer EBP minted for him), as EBP's software gets one."""
    from aimanager.services.artisans import issue_bearer
    from tests.unit.control.test_artisans import create_durant

    durant = create_durant(cast)["artisan_id"]
    return durant, issue_bearer("usr_ebp", durant, ttl_s, signing_secret()).access_token


def test_an_api_key_never_opens_artisan_routes_and_a_bearer_never_opens_editor_routes(cast: Cast) -> None:
    durant, bearer = durant_bearer(cast)
    assert cast.ebp.api_key
    assert refused({"X-API-Key": cast.ebp.api_key}, "/api/artisan/sessions")
    assert refused({"Authorization": f"Bearer {cast.ebp.api_key}"}, "/api/artisan/sessions")
    assert refused({"Authorization": f"Bearer {bearer}"}, "/api/editor/deployments")
    ok = authorize({"Authorization": f"Bearer {bearer}"}, "/api/artisan/sessions")
    link_id = ok["context"]["link_id"]
    assert ok["context"] == {
        "user_id": durant,
        "roles": "artisan",
        "auth": "bearer",
        "editor_id": "usr_ebp",
        "link_id": link_id,
    }


def test_bad_bearer_tokens_are_401(cast: Cast) -> None:
    durant, good = durant_bearer(cast)
    link_id = authorize({"Authorization": f"Bearer {good}"}, "/api/artisan/sessions")["context"]["link_id"]
    now = int(time.time())
    secret = signing_secret()
    claims = {"sub": durant, "iss_by": "usr_ebp", "lnk": link_id}
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    expired = sign(secret, "artisan", claims, 60, now - 120)
    wrong_purpose = sign(secret, "share_link", {**claims, "jti": "x"}, 600, now)
    other_secret = sign(b"k" * 40, "artisan", claims, 600, now)
    not_an_artisan = sign(secret, "artisan", {**claims, "sub": "usr_ebp"}, 600, now)
    unscoped = sign(secret, "artisan", {"sub": durant}, 600, now)  # minted before bearers named their editor
    other_editor = sign(secret, "artisan", {**claims, "iss_by": "usr_sage"}, 600, now)  # not this link's editor
    other_link = sign(secret, "artisan", {**claims, "lnk": "lnk_nope"}, 600, now)
    for token in (
        tampered,
        expired,
        wrong_purpose,
        other_secret,
        not_an_artisan,
        unscoped,
        other_editor,
        other_link,
        "",
    ):
        assert refused({"Authorization": f"Bearer {token}"}, "/api/artisan/sessions"), token
    assert refused({"Authorization": good}, "/api/artisan/sessions")  # no scheme


def test_a_deactivated_artisans_bearer_is_refused(cast: Cast) -> None:
    durant, bearer = durant_bearer(cast)
    assert authorize({"Authorization": f"Bearer {bearer}"}, "/api/artisan/sessions")["principalId"] == durant
    assert call(cast.admin, "PUT", f"/api/admin/editors/{durant}", {"is_active": False}).status == 404  # not an editor
    from aimanager.dal import accounts
    from aimanager.dal.tables import UserItem

    accounts.update_user(durant, [UserItem.is_active.set(False)])
    assert refused({"Authorization": f"Bearer {bearer}"}, "/api/artisan/sessions")


def test_a_bearer_dies_with_its_link(cast: Cast) -> None:
    durant, bearer = durant_bearer(cast)
    link_id = authorize({"Authorization": f"Bearer {bearer}"}, "/api/artisan/sessions")["context"]["link_id"]
    from aimanager.dal.tables import UserEditorLinkItem

    UserEditorLinkItem(link_id).update(actions=[UserEditorLinkItem.is_active.set(False)])
    assert refused({"Authorization": f"Bearer {bearer}"}, "/api/artisan/sessions")
