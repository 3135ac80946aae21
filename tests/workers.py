"""Which tests must share one xdist worker (``make test`` runs ``-n 4 --dist loadgroup``).

Tests are spread one by one over the workers, except where running apart would cost or break something:

- every Matrix end-to-end test runs in one worker, so one Synapse serves them all (its accounts are
  registered once, under fixed names);
- a module with a module-scoped fixture (its own Synapse, a loaded corpus, a migrated archive) runs in one
  worker, so that fixture is built once, not once per worker;
- the two runs over feedparser's corpus share one worker, so each document is parsed for reference once
  (``tests.hostile.expected.verdict`` caches per process);
- SIGKILL and lease-timing tests run in one worker, one after another.

The groups are decided from the test id in the controller process, by a scheduler of our own: xdist's own
``xdist_group`` mechanism rewrites node ids, which pytest 9.2 no longer honours (pytest-xdist issue 1386),
and the controller never collects, so it cannot look at fixtures. A module that is not listed here still
runs correctly, only its module fixture is then built in each worker that gets one of its tests.
Larger groups are handed out first, so no long group starts last.
"""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadGroupScheduling

SYNAPSE_GROUP = "synapse"
SERIAL_GROUP = "serial"
CORPUS_GROUP = "feedparser-corpus"
GROUPS: dict[str, str] = {
    "tests/matrix/": SYNAPSE_GROUP,  # the session's homeserver (tests/matrix/conftest.py)
    "tests/reliability/test_crash.py": SERIAL_GROUP,
    "tests/reliability/test_multi_instance.py": SERIAL_GROUP,
    "tests/storage/test_failover.py": SERIAL_GROUP,
    "tests/hostile/test_corpus_http.py": CORPUS_GROUP,
    "tests/hostile/test_corpus_ingest.py": CORPUS_GROUP,
}
# Modules with module-scoped fixtures: each is one group of its own.
MODULE_GROUPS = (
    "tests/reliability/test_matrix_reliability.py",  # its own Synapse
    "tests/reliability/test_fts_injection.py",
    "tests/reliability/test_fuzz_parsers.py",
    "tests/core/matching/test_corpora.py",
    "tests/core/matching/test_vocabulary.py",
    "tests/trends/test_confirm.py",
)


def group_of(nodeid: str) -> str | None:
    module = nodeid.split("::", 1)[0]
    for prefix, group in GROUPS.items():
        if module.startswith(prefix):
            return group
    return module if module in MODULE_GROUPS else None


class GroupScheduling(LoadGroupScheduling):
    """``--dist loadgroup`` with our groups; other tests keep xdist's rule (one unit each, or their mark)."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid) or super()._split_scope(nodeid)


class WorkerGroups:
    """Registered by ``tests/conftest.py`` when xdist is loaded."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: object) -> GroupScheduling | None:
        if config.getvalue("dist") != "loadgroup":
            return None
        return GroupScheduling(config, log)  # type: ignore[arg-type]
