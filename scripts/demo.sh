#!/usr/bin/env bash
# Runs the platform with demo data on an embedded SQLite database (no services needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export XINYONG_DATABASE_URL="${XINYONG_DATABASE_URL:-sqlite:///$PWD/var/demo.db}"
if [[ "$XINYONG_DATABASE_URL" == sqlite:///$PWD/var/demo.db ]]; then
  rm -f var/demo.db var/demo.db-wal var/demo.db-shm
fi
.venv/bin/xinyong db upgrade
.venv/bin/xinyong demo --subjects "${XINYONG_DEMO_SUBJECTS:-300}"
echo
echo "演示数据已就绪（数据库：$XINYONG_DATABASE_URL）。试试："
echo "  export XINYONG_DATABASE_URL=$XINYONG_DATABASE_URL"
echo "  .venv/bin/xinyong subject show <上面列出的代码>"
echo "  .venv/bin/xinyong ingest penalties tests/fixtures/penalties_with_errors.csv --report var/report.json"
echo "  .venv/bin/xinyong policy show"
