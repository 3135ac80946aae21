"""Which tests must share one xdist worker, and in what order the workers get them (``--dist loadgroup``).

Tests are spread one by one over the workers, except where running apart would cost or break something:

- every test on the session's Synapse runs in one worker, so one homeserver serves them all (its accounts
  are registered once, under fixed names);
- a module with a module-scoped fixture of ours (its own Synapse, a loaded corpus, a migrated archive) runs
  in one worker, so that fixture is built once, not once per worker;
- the two runs over feedparser's corpus share one worker, so each document is parsed for reference once
  (``tests.hostile.expected.verdict`` caches per process);
- SIGKILL and lease-timing tests (the modules in ``SERIAL_MODULES``, and any test marked ``serial``) run in
  one worker, one after another.

Groups go first, longest expected first, so no long group starts last and keeps one worker busy alone.
Without xdist the marks change nothing.
"""

from __future__ import annotations

import pytest

SYNAPSE_GROUP = "synapse"
SERIAL_GROUP = "serial"
CORPUS_GROUP = "feedparser-corpus"
SERIAL_MODULES = (
    "tests/reliability/test_crash.py",
    "tests/reliability/test_multi_instance.py",
    "tests/storage/test_failover.py",
)
CORPUS_MODULES = ("tests/hostile/test_corpus_http.py", "tests/hostile/test_corpus_ingest.py")
_SHARED_SCOPES = ("module", "package", "class")


def _uses_our_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        fixture.scope in _SHARED_SCOPES and getattr(fixture.func, "__module__", "").startswith("tests.")
        for fixtures in info.name2fixturedefs.values()
        for fixture in fixtures
    )


def group_of(item: pytest.Item) -> str | None:
    module = item.nodeid.split("::", 1)[0]
    if SYNAPSE_GROUP in getattr(item, "fixturenames", ()):
        return SYNAPSE_GROUP
    if module in SERIAL_MODULES or item.get_closest_marker(SERIAL_GROUP) is not None:
        return SERIAL_GROUP
    if module in CORPUS_MODULES:
        return CORPUS_GROUP
    if _uses_our_module_fixture(item):
        return module
    return None


def schedule_for_workers(items: list[pytest.Item]) -> None:
    """Mark each grouped test with its ``xdist_group``; move grouped tests to the front (stable)."""
    grouped: dict[str, list[pytest.Item]] = {}
    alone: list[pytest.Item] = []
    for item in items:
        group = group_of(item)
        if group is None:
            alone.append(item)
            continue
        item.add_marker(pytest.mark.xdist_group(group))
        grouped.setdefault(group, []).append(item)
    ordered = sorted(grouped.values(), key=len, reverse=True)
    items[:] = [item for group in ordered for item in group] + alone
