"""CSP frame-ancestors from an allowlist: exactly the sites the domain rule accepts, 'none' for nothing."""

from __future__ import annotations

import pytest

from aimanager.domain.origins import frame_ancestors
from aimanager.models.agent import AllowedDomain


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([], ["'none'"]),
        ([AllowedDomain("app.ebp.fr", is_active=False)], ["'none'"]),
        ([AllowedDomain("app.ebp.fr")], ["https://app.ebp.fr:*"]),
        ([AllowedDomain("*.ebp.fr", is_wildcard=True)], ["https://*.ebp.fr:*"]),
        ([AllowedDomain("APP.Ebp.FR.")], ["https://app.ebp.fr:*"]),
        ([AllowedDomain("*.com", is_wildcard=True)], ["'none'"]),  # never a bare public suffix
        ([AllowedDomain("bad host!")], ["'none'"]),
        (
            [AllowedDomain("localhost", environment="localhost")],
            ["https://localhost:*", "http://localhost:*", "https://127.0.0.1:*", "http://127.0.0.1:*"],
        ),
        (
            [AllowedDomain("staging.ebp.fr", environment="development")],
            [
                "https://staging.ebp.fr:*",
                "http://staging.ebp.fr:*",
                "https://localhost:*",
                "http://localhost:*",
                "https://127.0.0.1:*",
                "http://127.0.0.1:*",
            ],
        ),
        ([AllowedDomain("app.ebp.fr"), AllowedDomain("app.ebp.fr")], ["https://app.ebp.fr:*"]),
    ],
)
def test_frame_ancestors_mirror_the_allowlist(entries: list[AllowedDomain], expected: list[str]) -> None:
    assert frame_ancestors(entries) == expected
