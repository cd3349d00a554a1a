"""The allowlist rule (spec §4.1), table by table: exact, wildcard, loopback, normalisation, deny by default."""

from __future__ import annotations

import pytest

from aimanager.domain.origins import (
    host_from_url,
    index_keys_for_entry,
    index_keys_for_host,
    is_host_allowed,
    normalize_host,
    request_host,
)
from aimanager.models.agent import AllowedDomain as D

EXACT = [D("app.example.com")]
WILD = [D("*.example.com", is_wildcard=True)]


@pytest.mark.parametrize(
    ("host", "allowed", "expected"),
    [
        ("app.example.com", EXACT, True),
        ("APP.Example.COM", EXACT, False),  # callers normalise first: the rule compares normalised hosts
        ("other.example.com", EXACT, False),
        ("example.com", EXACT, False),
        ("sub.app.example.com", EXACT, False),
        ("a.example.com", WILD, True),
        ("a.b.example.com", WILD, True),
        ("example.com", WILD, False),  # the apex needs its own entry
        ("evil-example.com", WILD, False),
        ("example.com.evil.net", WILD, False),
        ("aexample.com", WILD, False),
        ("a.example.com", [D("example.com", is_wildcard=True)], True),  # is_wildcard flag without "*."
        ("x.com", [D("*.com", is_wildcard=True)], False),  # never a bare public suffix
        ("localhost", EXACT, False),
        ("localhost", WILD, False),
        ("127.0.0.1", EXACT, False),
        ("localhost", [D("localhost", environment="localhost")], True),
        ("127.0.0.1", [D("localhost", environment="localhost")], True),
        ("127.0.0.1", [D("app.example.com", environment="development")], True),
        ("localhost", [D("app.example.com", environment="production")], False),
        ("localhost", [D("localhost")], True),  # an explicit entry for it
        ("app.example.com", [], False),  # empty allowlist denies
        ("app.example.com", [D("app.example.com", is_active=False)], False),  # inactive domain denies
        (None, EXACT, False),
    ],
)
def test_is_host_allowed(host: str | None, allowed: list[D], expected: bool) -> None:
    # Given an allowlist, When a normalised host asks, Then only the rule's matches pass
    assert is_host_allowed(host, allowed) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("App.Example.com.", "app.example.com"),
        ("app.example.com", "app.example.com"),
        ("[::1]", "::1"),
        ("", None),
        (None, None),
        ("bad host", None),
        ("a..b", None),
        ("exa_mple.com", "exa_mple.com"),
        ("bücher.de", "xn--bcher-kva.de"),
    ],
)
def test_normalize_host(raw: str | None, expected: str | None) -> None:
    assert normalize_host(raw) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://app.example.com", "app.example.com"),
        ("https://APP.example.com:8443", "app.example.com"),
        ("http://localhost:3000", "localhost"),
        ("https://app.example.com./path?q=1", "app.example.com"),
        ("null", None),
        ("file:///etc/passwd", None),
        ("javascript:alert(1)", None),
        ("https://user@app.example.com@evil.net", "evil.net"),
        ("not a url", None),
        ("", None),
    ],
)
def test_host_from_url(url: str, expected: str | None) -> None:
    assert host_from_url(url) == expected


def test_origin_wins_over_referer_and_header_names_are_case_insensitive() -> None:
    # Given both headers, When the host is read, Then Origin decides
    assert request_host({"origin": "https://a.example.com", "Referer": "https://b.example.com/x"}) == (
        "a.example.com",
        "https://a.example.com",
    )
    # Given only a Referer, Then its host is used
    assert request_host({"REFERER": "https://b.example.com/page"})[0] == "b.example.com"
    # Given neither, Then there is no host
    assert request_host({}) == (None, None)


def test_reverse_index_keys_cover_every_pattern_that_can_match() -> None:
    # Given a host, When candidate index keys are listed, Then each wildcard that may allow it is there
    assert index_keys_for_host("a.b.example.com") == ["a.b.example.com", "*.b.example.com", "*.example.com"]
    assert index_keys_for_host("localhost") == ["localhost"]
    # And an entry writes its own pattern, plus the loopback hosts when it is a development entry
    assert index_keys_for_entry(D("*.Example.com.", is_wildcard=True)) == ["*.example.com"]
    assert index_keys_for_entry(D("localhost", environment="localhost")) == ["localhost", "127.0.0.1", "::1"]
    for entry in (D("*.example.com", is_wildcard=True), D("app.example.com")):
        keys = index_keys_for_entry(entry)
        assert any(
            k in keys for k in index_keys_for_host("x.app.example.com" if entry.is_wildcard else "app.example.com")
        )
