#!/usr/bin/env bash
# `npm run demo`: on a fresh machine, install what is needed, start Docker Engine and the local registry
# (scripts/engine-env.sh), build tscompose, bring up examples/flask-redis detached and show it answering.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f node_modules/.package-lock.json ] || npm install --no-audit --no-fund
bash scripts/engine-env.sh
npm run --silent build
bin/tscompose -f examples/flask-redis/compose.yaml up -d --build --wait
# The app has no healthcheck: give Flask a few seconds to start listening.
curl -fsS --retry 30 --retry-all-errors --retry-delay 1 --max-time 5 http://127.0.0.1:5000/
curl -fsS http://127.0.0.1:5000/
echo "examples/flask-redis is up on http://127.0.0.1:5000/ (stop it: bin/tscompose -f examples/flask-redis/compose.yaml down)"
