"""Signed tokens: only the signer's secret, purpose and lifetime make one valid."""

from __future__ import annotations

import base64
import json

import pytest

from aimanager.domain.tokens import InvalidToken, sign, verify

SECRET = b"s" * 32
NOW = 1_796_000_000


def _token(**claims: object) -> str:
    return sign(SECRET, "share_link", claims or {"jti": "j1", "session_id": "sess_a"}, 3600, NOW)


def test_a_token_verifies_for_its_purpose_until_it_expires() -> None:
    token = _token()
    assert verify(SECRET, "share_link", token, NOW) == {"jti": "j1", "session_id": "sess_a", "exp": NOW + 3600}
    assert verify(SECRET, "share_link", token, NOW + 3599)["jti"] == "j1"
    with pytest.raises(InvalidToken) as err:
        verify(SECRET, "share_link", token, NOW + 3600)
    assert err.value.reason == "expired"


def test_another_purpose_never_verifies() -> None:
    with pytest.raises(InvalidToken) as err:
        verify(SECRET, "artisan", _token(), NOW)
    assert err.value.reason == "signature"


def test_another_secret_never_verifies() -> None:
    with pytest.raises(InvalidToken):
        verify(b"t" * 32, "share_link", _token(), NOW)


def _reencode(claims: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),  # signature changed
        lambda t: "v2" + t[2:],  # another version: another algorithm is never accepted
        lambda t: (
            t.split(".")[0]
            + "."
            + _reencode({"jti": "j2", "pur": "share_link", "exp": NOW + 10**6})
            + "."
            + t.split(".")[2]
        ),  # payload swapped, signature kept
        lambda t: t + ".x",
        lambda t: t.replace(".", "", 1),
        lambda t: "",
        lambda t: "v1.!!!.???",
        lambda t: t + "A" * 3000,
    ],
)
def test_tampered_or_malformed_tokens_are_refused(mutate: object) -> None:
    token = _token()
    with pytest.raises(InvalidToken):
        verify(SECRET, "share_link", mutate(token), NOW)  # type: ignore[operator]


def test_a_signed_payload_without_the_purpose_claim_is_refused() -> None:
    # Even a correctly signed payload must name the purpose it was minted for.
    import hashlib
    import hmac

    payload = _reencode({"jti": "j", "exp": NOW + 60})
    mac = hmac.new(SECRET, f"v1.share_link.{payload}".encode(), hashlib.sha256).digest()
    token = f"v1.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(InvalidToken) as err:
        verify(SECRET, "share_link", token, NOW)
    assert err.value.reason == "purpose"


def test_misuse_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        sign(b"short", "share_link", {}, 60, NOW)
    with pytest.raises(ValueError):
        sign(SECRET, "Bad Purpose", {}, 60, NOW)
    with pytest.raises(ValueError):
        sign(SECRET, "share_link", {"exp": 1}, 60, NOW)
    with pytest.raises(ValueError):
        sign(SECRET, "share_link", {}, 0, NOW)
