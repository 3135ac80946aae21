#!/usr/bin/env bash
# Whole test suite: lint, then pytest. Services the end-to-end tests need (the Telegram Bot API test
# server, a Synapse homeserver in its own virtualenv) are started by the tests' fixtures and stopped by
# process id. pytest's exit 5 ("no tests collected") is a failure here, never a silent pass.
#
# The suite mostly waits (on Synapse, PostgreSQL, subprocesses), so it runs in parallel pytest-xdist
# workers, more than the cores: NEWSALERT_TEST_WORKERS (default 4; 0 = one process). `--dist loadgroup`
# keeps together what must share a worker (see tests/workers.py). Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
"$VENV/bin/ruff" check . || exit 1
WORKERS="${NEWSALERT_TEST_WORKERS:-4}"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -n "$WORKERS" --dist loadgroup "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    exit 1
fi
exit "$rc"
