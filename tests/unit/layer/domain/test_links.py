"""An artisan link's status and the consent rule (decision 0029), table-driven."""

from __future__ import annotations

import pytest

from aimanager.domain.links import is_usable, link_status, names_an_artisan, nobody

NOW = "2026-12-01T10:00:00.000Z"


@pytest.mark.parametrize(
    ("is_active", "status", "expires", "expected"),
    [
        (True, None, None, "active"),  # links made before consent existed: all consented
        (True, "active", None, "active"),
        (False, "active", None, "inactive"),
        (True, "pending", "2026-12-31T00:00:00Z", "pending"),
        (True, "pending", "2026-11-30T00:00:00Z", "expired"),
        (True, "declined", "2026-12-31T00:00:00Z", "declined"),
    ],
)
def test_link_status(is_active: bool, status: str | None, expires: str | None, expected: str) -> None:
    assert link_status(is_active=is_active, status=status, invite_expires_at=expires, now=NOW) == expected


@pytest.mark.parametrize(
    ("is_active", "status", "usable"),
    [
        (True, None, True),
        (True, "active", True),
        (False, "active", False),
        (True, "pending", False),
        (True, "declined", False),
    ],
)
def test_only_a_consented_active_link_gives_its_editor_anything(
    is_active: bool, status: str | None, usable: bool
) -> None:
    assert is_usable(is_active=is_active, status=status) is usable


def test_an_invitation_to_nobody_names_no_artisan() -> None:
    assert not names_an_artisan(nobody("lnk_1")) and names_an_artisan("usr_durant")
