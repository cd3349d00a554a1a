"""widget/ is the source of the front end; this copies each file into the function that serves it and
measures the size budget (`python -m infra.widget` = `make widget`; a unit test keeps the copies identical)."""

from __future__ import annotations

import gzip
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDGET = ROOT / "widget"
COPIES: dict[str, tuple[str, ...]] = {
    "loader.js": ("functions/widget_assets",),
    "chat.js": ("functions/widget_assets",),
    "chat.css": ("functions/widget_assets",),
    "chat.html": ("functions/widget_page",),
}
# The budget (issue 4): loader <= 4 KB gzipped, the whole chat app (HTML + JS + CSS) <= 30 KB gzipped.
LOADER_BUDGET = 4 * 1024
APP_BUDGET = 30 * 1024
APP_FILES = ("chat.html", "chat.js", "chat.css")


def copies() -> list[tuple[Path, Path]]:
    return [(WIDGET / name, ROOT / folder / name) for name, folders in COPIES.items() for folder in folders]


def sync() -> list[Path]:
    """Copy what changed; returns the copies written."""
    written = []
    for source, target in copies():
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)
            written.append(target)
    return written


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def sizes() -> dict[str, int]:
    """Raw and gzipped sizes: loader, and the chat app as one sum."""
    return {
        "loader_raw": (WIDGET / "loader.js").stat().st_size,
        "loader_gz": gzipped(WIDGET / "loader.js"),
        "app_raw": sum((WIDGET / n).stat().st_size for n in APP_FILES),
        "app_gz": sum(gzipped(WIDGET / n) for n in APP_FILES),
    }


def main() -> int:
    for path in sync():
        print(f"updated {path.relative_to(ROOT)}")
    s = sizes()
    print(
        f"loader.js {s['loader_gz']} B gzipped (budget {LOADER_BUDGET}); chat app {s['app_gz']} B (budget {APP_BUDGET})"
    )
    return 0 if s["loader_gz"] <= LOADER_BUDGET and s["app_gz"] <= APP_BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
