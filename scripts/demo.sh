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
# plain http on this machine: the session cookie cannot be marked Secure
export XINYONG_COOKIE_SECURE="${XINYONG_COOKIE_SECURE:-false}"
echo
echo "演示数据已就绪（数据库：$XINYONG_DATABASE_URL）。用上面的演示账号登录；命令行可用："
echo "  XINYONG_DATABASE_URL=$XINYONG_DATABASE_URL .venv/bin/xinyong subject show <上面列出的代码>"
echo
exec .venv/bin/xinyong serve --host "${XINYONG_HOST:-127.0.0.1}" --port "${XINYONG_PORT:-8000}"
