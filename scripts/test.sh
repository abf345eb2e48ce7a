#!/usr/bin/env bash
# Set up a virtual environment and run the whole test suite on the CPU.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# torch and torchvision are pinned to a matching pair: the image-feature tests need torchvision,
# which must be built against the exact torch it runs with. Everything runs on the CPU.
.venv/bin/pip install -q --disable-pip-version-check torch==2.14.1 torchvision==0.29.1
.venv/bin/pip install -q --disable-pip-version-check -e '.[test,images,text]' pyarrow
# The multi-worker tuning test needs a real PostgreSQL server: start a throwaway one when we can.
if [ -z "${SZSL_TEST_POSTGRES_URL:-}" ] && [ -f .ci/start_postgres.sh ]; then
  if url=$(bash .ci/start_postgres.sh 2>/tmp/szsl-postgres.log | tail -n 1) && [ -n "$url" ]; then
    export SZSL_TEST_POSTGRES_URL="$url"
  else
    echo "note: PostgreSQL could not be started (see /tmp/szsl-postgres.log); its test will be skipped" >&2
  fi
fi
# The kill-and-resume suites time signals against running commands: they run in a pytest process
# of their own (in one process after the whole suite they interrupt too few commands, see docs/reliability.md).
.venv/bin/python -m pytest --ignore=tests/reliability "$@"
.venv/bin/python -m pytest tests/reliability --ignore=tests/reliability/test_interrupt.py "$@"
exec .venv/bin/python -m pytest tests/reliability/test_interrupt.py "$@"
