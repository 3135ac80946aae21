#!/usr/bin/env bash
# Whole test suite: lint, then pytest. Services the end-to-end tests need (the Telegram Bot API test
# server, a Synapse homeserver in its own virtualenv) are started by the tests' fixtures and stopped by
# process id. pytest's exit 5 ("no tests collected") is a failure here, never a silent pass.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
"$VENV/bin/ruff" check . || exit 1
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    exit 1
fi
exit "$rc"
