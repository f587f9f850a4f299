#!/usr/bin/env bash
# Contract tests: schemathesis (pinned, from PyPI) over the whole OpenAPI
# document of a running debug `roster`, authenticated as a superadmin that
# this script creates, with fixtures (an organization with a role, a
# location, members, an API key, invitations…) whose ids reach the
# operations through `schemathesis.toml` (written by schemathesis_fixtures.py).
# Every check must pass; README.md ("Contract tests") lists the exclusions.
#
#   bash .ci/schemathesis.sh            # builds target/debug/roster (a no-op after `cargo test`)
#   ROSTER_BIN=/path/to/roster bash .ci/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SCHEMATHESIS_VERSION=4.32.5
target=${CARGO_TARGET_DIR:-$root/target}
bin=${ROSTER_BIN:-}
unset ROSTER_BIN # the server reads every ROSTER_* variable as configuration
if [ -z "$bin" ]; then
  # The debug binary `cargo test` already built: this only checks it is fresh.
  cargo build --locked --bin roster
  bin=$target/debug/roster
fi
# A copy: a parallel build must not swap the binary under the running server.
work=$(mktemp -d /tmp/roster-contract.XXXXXX)
chmod 711 "$work" # when root, the embedded PostgreSQL runs as `postgres` and must traverse it
cp "$bin" "$work/roster"

venv=${SCHEMATHESIS_VENV:-$target/schemathesis-venv}
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export ROSTER_DATA_DIR="$work/data"
export ROSTER_LISTEN="127.0.0.1:$port"
export ROSTER_PUBLIC_URL="$base"
export ROSTER_LOG__LEVEL=warn
# The cheapest cost the server accepts: a debug build hashes every login.
export ROSTER_AUTH__BCRYPT_COST=10
# The superadmin's access token must outlive the run.
export ROSTER_AUTH__ACCESS_TOKEN_TTL_SECS=7200
# Generated requests hit the mail endpoints far more often than people do:
# the limits are not what is under test here (their own tests cover them).
for limit in FORGOT_PASSWORD RESEND_VERIFICATION INVITE EMAIL_TAKEN; do
  export "ROSTER_RATE_LIMITS__${limit}__PER_ADDRESS=1000000"
  export "ROSTER_RATE_LIMITS__${limit}__PER_IP=1000000"
done
export ROSTER_RATE_LIMITS__LOGIN__PER_IP=1000000
unset ROSTER_CONFIG ROSTER_DATABASE_URL ROSTER_SMTP_URL

server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

admin_email=contract-admin@example.com
admin_password=$("$venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(24))')
echo "$admin_password" | "$work/roster" admin create --email "$admin_email" --password-stdin

"$work/roster" serve >"$work/server.log" 2>&1 &
server=$!
ready() {
  "$venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$base/health/ready" 2>/dev/null
}
for _ in $(seq 1 120); do
  if ready; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$work/server.log"; exit 1; fi
  sleep 0.5
done

ADMIN_EMAIL=$admin_email ADMIN_PASSWORD=$admin_password \
  "$venv/bin/python" .ci/schemathesis_fixtures.py "$base" "$work/schemathesis.toml"

# The checks (not_a_server_error, status_code_conformance,
# response_schema_conformance, content_type_conformance,
# response_headers_conformance, negative_data_rejection,
# positive_data_acceptance) and the exclusions are in the config file.
# About 20 examples per operation and phase; `timeout` bounds the whole run.
run() {
  local config=$1
  shift
  (cd "$work" && timeout "${SCHEMATHESIS_TIMEOUT:-1200}" "$venv/bin/schemathesis" --config-file "$config" \
    run "$base/api/v1/openapi.json" \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-20}" \
    --phases examples,coverage,fuzzing \
    --workers 2 \
    --seed "${SCHEMATHESIS_SEED:-7}" \
    --request-timeout 30 \
    --no-color \
    --report har --report-har-path "$work/$config.har" \
    "$@")
}

started=$(date +%s)
status=0
# Everything but logout and ending one's own sessions, as the superadmin;
# then each of those alone, as a throwaway account (they end the session of
# the token they are sent with; schemathesis reuses the ids that
# `GET /me/sessions` answers).
logout=(--include-name "POST /api/v1/auth/logout")
sessions=(--include-name "DELETE /api/v1/me/sessions" --include-name "DELETE /api/v1/me/sessions/{id}")
run schemathesis.toml "${logout[@]/#--include/--exclude}" "${sessions[@]/#--include/--exclude}" || status=$?
run schemathesis-logout.toml "${logout[@]}" || status=$?
run schemathesis-sessions.toml "${sessions[@]}" || status=$?
echo "schemathesis: $(( $(date +%s) - started ))s"
"$venv/bin/python" .ci/schemathesis_coverage.py "$base/api/v1/openapi.json" "$work"/*.har || true
if [ "$status" -ne 0 ] || grep -q "panicked" "$work/server.log"; then
  echo "== server log (last 50 lines)"
  tail -n 50 "$work/server.log"
  exit 1
fi
