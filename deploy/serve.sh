#!/usr/bin/env bash
# Start Gatekeeper: `deploy/serve.sh admin|decisions|all` (from the project directory).
#
#   admin      the Django admin (and its /metrics) on GATEKEEPER_BIND (127.0.0.1:7843): staff
#   decisions  the decision server on GATEKEEPER_DECISION_BIND (127.0.0.1:7844): the proxy
#   all        both, for one machine (`make run`); stops both when either stops or on Ctrl-C
#
# Production runs each role under its own supervisor (systemd unit, container); see README.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
role="${1:-all}"

admin() { exec "$PY" -m gunicorn --config deploy/gunicorn.conf.py gatekeeper_project.wsgi; }
decisions() { exec "$PY" -m authz.serve; }

case "$role" in
  admin) admin ;;
  decisions) decisions ;;
  all)
    trap 'kill 0 2>/dev/null; wait' EXIT
    trap 'exit 0' INT TERM
    (admin) &
    (decisions) &
    # Whichever stops first takes the other with it.
    wait -n
    ;;
  *) echo "usage: $0 admin|decisions|all" >&2; exit 2 ;;
esac
