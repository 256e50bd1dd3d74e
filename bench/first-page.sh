#!/usr/bin/env bash
# How long the README's first command takes from a fresh clone to a served page.
# Clones this repository into a temporary folder, runs bin/demo there, polls
# /sign-in until it answers 200, and appends the time to bench/results.md.
# (Package caches on this machine, pip's and npm's, are used if present; say so
# when you quote the figure.)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
port="${PORT:-8765}"
git clone -q "$here" "$work/hub"
cd "$work/hub"
start=$(date +%s.%N)
PORT="$port" bin/demo > "$work/demo.log" 2>&1 &
demo=$!
seconds=""
for _ in $(seq 1 1200); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/sign-in" || true)" = 200 ]; then
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    break
  fi
  sleep 0.5
done
pkill -f "gunicorn --bind 127.0.0.1:$port" || true
pkill -f "$work/hub/.venv/bin/flask --app wsgi hub scheduler" || true
kill "$demo" 2>/dev/null || true
if [ -z "$seconds" ]; then
  echo "the demo did not serve a page within 10 minutes; see $work/demo.log" >&2
  exit 1
fi
printf '| %s | first command, fresh clone to served page | %.1f s |\n' "$(date -u +%Y-%m-%d)" "$seconds" \
  | tee -a "$here/bench/results.md"
rm -rf "$work"
