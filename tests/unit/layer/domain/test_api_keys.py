"""API keys: enough randomness, a checksum that catches typos, only a hash stored."""

from __future__ import annotations

import secrets

import pytest

from aimanager.domain.api_keys import hash_api_key, is_well_formed, new_api_key, prefix_of


def test_a_new_key_is_shown_once_and_stored_as_hash_and_prefix() -> None:
    key = new_api_key("editeur", secrets.token_bytes(20))
    assert key.secret.startswith("edk_live_") and key.prefix == prefix_of(key.secret)
    assert key.key_hash == hash_api_key(key.secret) and key.secret not in key.key_hash
    assert is_well_formed(key.secret)


def test_a_typo_fails_the_checksum() -> None:
    key = new_api_key("admin", bytes(range(20))).secret
    typo = key[:12] + ("a" if key[12] != "a" else "b") + key[13:]
    assert not is_well_formed(typo)
    assert not is_well_formed("edk_live_nothing")


def test_too_little_randomness_is_refused() -> None:
    with pytest.raises(ValueError):
        new_api_key("editeur", b"short")
