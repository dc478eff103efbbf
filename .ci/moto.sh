#!/usr/bin/env bash
# Local S3/SES for tests: moto server (PyPI moto[server]) in a venv, on loopback.
#   .ci/moto.sh start   installs if needed, starts the server, prints the exports
#   .ci/moto.sh stop    stops it
# Usage: eval "$(.ci/moto.sh start)"
set -euo pipefail
VENV="${STSGUARD_CI_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/stsguard-ci/venv}"
PORT="${STSGUARD_MOTO_PORT:-45123}"
PIDFILE="${TMPDIR:-/tmp}/stsguard-moto-$PORT.pid"
LOG="${TMPDIR:-/tmp}/stsguard-moto-$PORT.log"

case "${1:-}" in
start)
  if [ ! -x "$VENV/bin/moto_server" ]; then
    python3 -m venv "$VENV" >&2
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6' >&2
  fi
  if ! curl -fsS "http://127.0.0.1:$PORT/moto-api/" >/dev/null 2>&1; then
    nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
    for _ in $(seq 1 100); do
      curl -fsS "http://127.0.0.1:$PORT/moto-api/" >/dev/null 2>&1 && break
      sleep 0.1
    done
    curl -fsS "http://127.0.0.1:$PORT/moto-api/" >/dev/null || { echo "moto did not start; see $LOG" >&2; exit 1; }
  fi
  cat <<EXPORTS
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export STSGUARD_CI_VENV=$VENV
EXPORTS
  ;;
stop)
  if [ -f "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; rm -f "$PIDFILE"; fi
  ;;
*)
  echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
