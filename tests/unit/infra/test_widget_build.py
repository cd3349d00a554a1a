"""widget/ is the source of the front end: the copies the functions serve are identical, and within budget."""

from __future__ import annotations

from infra.widget import APP_BUDGET, LOADER_BUDGET, copies, sizes


def test_each_function_serves_exactly_the_widget_sources() -> None:
    # Given widget/ (edited by people) and the copies packaged with the functions
    # Then they are byte for byte the same (`make widget` copies them)
    stale = [str(target) for source, target in copies() if target.read_bytes() != source.read_bytes()]
    assert stale == [], f"run `make widget`: {stale}"


def test_the_widget_stays_within_its_size_budget() -> None:
    s = sizes()
    assert s["loader_gz"] <= LOADER_BUDGET, s
    assert s["app_gz"] <= APP_BUDGET, s
