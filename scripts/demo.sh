#!/usr/bin/env bash
# `npm run demo`: on a fresh Debian bookworm machine, as root, with no Docker Engine and no registry: build
# tscompose, install what the native runtime needs and import the base images built from Debian packages into
# its store (scripts/native-images.sh), then bring up examples/flask-redis on the native runtime — `web` built
# from its Dockerfile, `redis` from redis:7 — detached, and show its counter going up.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f node_modules/.package-lock.json ] || npm install --no-audit --no-fund
npm run --silent build
bash scripts/native-images.sh --base-only   # busybox, python, redis, debian: what this example needs
compose=(bin/tscompose --runtime native -f examples/flask-redis/compose.yaml)
"${compose[@]}" up -d --build --wait
# The app has no healthcheck: give Flask a few seconds to start listening (a bare connect does not count a hit).
for _ in $(seq 1 60); do (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null && break; sleep 0.5; done
curl -fsS --max-time 10 http://127.0.0.1:5000/
curl -fsS --max-time 10 http://127.0.0.1:5000/
echo "examples/flask-redis is up on http://127.0.0.1:5000/ (stop it: ${compose[*]} down)"
