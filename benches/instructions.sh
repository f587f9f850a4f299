#!/usr/bin/env bash
# Instructions the `roster` process executes per `GET /api/v1/me`, counted by
# valgrind's callgrind: repeatable for one binary and input, whatever else
# the machine does (wall-clock figures on a shared 2-core VM are not).
#
#   bash benches/instructions.sh [BIN] [N]      # defaults: target/release/roster, 2000
#
# Runs the server twice under callgrind (one worker, a fresh embedded
# PostgreSQL, which is not counted): once serving nothing but one login, once
# also N `GET /me` on one keep-alive connection; prints the difference / N.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/roster}")
n=${2:-2000}
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
out=$(mktemp -d /tmp/roster-instructions.XXXXXX)
chmod 711 "$out" # when root, the embedded PostgreSQL runs as `postgres`
trap 'rm -rf "$out"' EXIT

count() { # count REQUESTS → total instructions of the server process
  local requests=$1 port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  rm -rf "$out/data"
  env -u ROSTER_DATABASE_URL ROSTER_DATA_DIR="$out/data" ROSTER_LOG__LEVEL=warn ROSTER_AUTH__BCRYPT_COST=10 \
    sh -c "echo 'bench password 1' | '$bin' admin create --email cg@example.com --password-stdin >/dev/null"
  env -u ROSTER_DATABASE_URL ROSTER_DATA_DIR="$out/data" ROSTER_LISTEN="127.0.0.1:$port" ROSTER_LOG__LEVEL=warn \
    ROSTER_AUTH__BCRYPT_COST=10 ROSTER_HTTP__WORKERS=1 \
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$bin" >"$out/server.log" 2>&1 &
  local vg=$!
  python3 - "$port" "$requests" <<'PY'
import http.client, json, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("GET", "/health/live"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.5)
body = json.dumps({"email": "cg@example.com", "password": "bench password 1"})
c.request("POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
token = json.loads(c.getresponse().read())["access_token"]
for _ in range(n):
    c.request("GET", "/api/v1/me", headers={"Authorization": "Bearer " + token})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
  kill -INT "$vg"
  wait "$vg" || true
  sed -n 's/^summary: //p' "$out/cg.out"
}

base=$(count 0)
loaded=$(count "$n")
echo "$(basename "$bin"): $(( (loaded - base) / n )) instructions per GET /me ($n requests; $base at rest, $loaded loaded)"
