#!/usr/bin/env bash
# Start Gatekeeper: `deploy/serve.sh admin|decisions|webhooks|all` (from the project directory).
#
#   admin      the Django admin (and its /metrics) on GATEKEEPER_BIND (127.0.0.1:7843): staff
#   decisions  the decision server on GATEKEEPER_DECISION_BIND (127.0.0.1:7844): the proxy
#   webhooks   the webhook worker (manage.py deliver_webhooks); its metrics appear on the
#              admin's /metrics
#   all        all three, for one machine (`make run`); stops all when one stops or on Ctrl-C
#
# Production runs each role under its own supervisor (systemd unit, container); see README.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
role="${1:-all}"

admin() { exec "$PY" -m gunicorn --config deploy/gunicorn.conf.py gatekeeper_project.wsgi; }
decisions() { exec "$PY" -m authz.serve; }
# The worker's metrics go to a directory of its own inside the admin's (the one
# deploy/gunicorn.conf.py uses), which the admin's /metrics merges and its start leaves alone.
webhooks() {
  local admin_metrics="${PROMETHEUS_MULTIPROC_DIR:-${GATEKEEPER_STATE_DIR:-var}/metrics/admin}"
  PROMETHEUS_MULTIPROC_DIR="$admin_metrics/webhooks" exec "$PY" manage.py deliver_webhooks
}

case "$role" in
  admin) admin ;;
  decisions) decisions ;;
  webhooks) webhooks ;;
  all)
    trap 'kill 0 2>/dev/null; wait' EXIT
    trap 'exit 0' INT TERM
    (admin) &
    (decisions) &
    (webhooks) &
    # Whichever stops first takes the other with it.
    wait -n
    ;;
  *) echo "usage: $0 admin|decisions|webhooks|all" >&2; exit 2 ;;
esac
