"""Upload rules (spec §15.2D): what may be uploaded, recognised by its bytes, never by its name."""

from __future__ import annotations

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_SESSION = 10
ALLOWED_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
SNIFF_BYTES = 16


def sniff(head: bytes) -> str | None:
    """The content type the first bytes prove (magic numbers), or None for anything we do not accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def safe_file_name(name: str) -> str:
    """The name as shown back to people: no path, no control characters, at most 120 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip() or "file"
    return cleaned[:120]
