#!/usr/bin/env bash
# Runs the whole test suite, on SQLite and on PostgreSQL (127.0.0.1:5432 must be up).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/ruff check src tests bench
.venv/bin/pytest -n 2 "$@"
