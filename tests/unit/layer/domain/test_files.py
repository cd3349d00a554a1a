"""Upload rules: a file is what its bytes say, never what its name or declared type says."""

from __future__ import annotations

import pytest

from aimanager.domain.files import safe_file_name, sniff


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n%\xe2\xe3", "application/pdf"),
        (b"<html><script>alert(1)</script>", None),  # a page renamed photo.jpg
        (b"GIF89a\x01\x00", None),  # a real image, not on the list
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),  # RIFF but audio
        (b"\x89PNG", None),  # truncated signature
        (b"", None),
        (b"MZ\x90\x00", None),  # an executable
    ],
)
def test_sniff_recognises_only_the_accepted_types_by_their_bytes(head: bytes, expected: str | None) -> None:
    assert sniff(head) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("salle-de-bain.jpg", "salle-de-bain.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\m\\plan.pdf", "plan.pdf"),
        ("a\x00b\nc.png", "abc.png"),
        ("   ", "file"),
        ("x" * 300 + ".jpg", "x" * 120),
    ],
)
def test_file_names_are_shown_without_paths_or_control_characters(name: str, expected: str) -> None:
    assert safe_file_name(name) == expected
