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
from tests.unit.control.world import Ctx, call, make_user


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


def test_an_api_key_never_opens_artisan_routes_and_a_bearer_never_opens_editor_routes(cast: Cast) -> None:
    make_user("usr_durant", "artisan")
    bearer = sign(signing_secret(), "artisan", {"sub": "usr_durant"}, 600, int(time.time()))
    assert cast.ebp.api_key
    assert refused({"X-API-Key": cast.ebp.api_key}, "/api/artisan/sessions")
    assert refused({"Authorization": f"Bearer {cast.ebp.api_key}"}, "/api/artisan/sessions")
    assert refused({"Authorization": f"Bearer {bearer}"}, "/api/editor/deployments")
    ok = authorize({"Authorization": f"Bearer {bearer}"}, "/api/artisan/sessions")
    assert ok["context"] == {"user_id": "usr_durant", "roles": "artisan", "auth": "bearer"}


def test_bad_bearer_tokens_are_401(cast: Cast) -> None:
    make_user("usr_durant", "artisan")
    now = int(time.time())
    secret = signing_secret()
    good = sign(secret, "artisan", {"sub": "usr_durant"}, 600, now)
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    expired = sign(secret, "artisan", {"sub": "usr_durant"}, 60, now - 120)
    wrong_purpose = sign(secret, "share_link", {"sub": "usr_durant", "jti": "x"}, 600, now)
    other_secret = sign(b"k" * 40, "artisan", {"sub": "usr_durant"}, 600, now)
    not_an_artisan = sign(secret, "artisan", {"sub": "usr_ebp"}, 600, now)
    for token in (tampered, expired, wrong_purpose, other_secret, not_an_artisan, ""):
        assert refused({"Authorization": f"Bearer {token}"}, "/api/artisan/sessions"), token
    assert refused({"Authorization": good}, "/api/artisan/sessions")  # no scheme


def test_a_deactivated_artisans_bearer_is_refused(cast: Cast) -> None:
    make_user("usr_durant", "artisan")
    bearer = sign(signing_secret(), "artisan", {"sub": "usr_durant"}, 600, int(time.time()))
    assert call(cast.admin, "PUT", "/api/admin/editors/usr_durant", {"is_active": False}).status == 404  # not an editor
    from aimanager.dal import accounts
    from aimanager.dal.tables import UserItem

    accounts.update_user("usr_durant", [UserItem.is_active.set(False)])
    assert refused({"Authorization": f"Bearer {bearer}"}, "/api/artisan/sessions")
