#!/usr/bin/env bash
# Refreshes the front-end libraries from the npm registry into src/xinyong/web/static/vendor/.
# The copied files are committed, so running the platform needs neither npm nor the internet.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-audit --no-fund --silent --no-package-lock
mkdir -p src/xinyong/web/static/vendor
cp node_modules/htmx.org/dist/htmx.min.js src/xinyong/web/static/vendor/htmx.min.js
mkdir -p src/xinyong/web/static/vendor/swagger-ui
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
   node_modules/swagger-ui-dist/LICENSE src/xinyong/web/static/vendor/swagger-ui/
echo "vendored: htmx.org $(node -p "require('./node_modules/htmx.org/package.json').version")"
echo "vendored: swagger-ui-dist $(node -p "require('./node_modules/swagger-ui-dist/package.json').version")"
