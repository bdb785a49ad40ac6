"""Admin pages at scale: the overview, a client page and the decision list, each timed with
10 million decision records and 10,000 clients (issue 13's acceptance: under 300 ms each).

PostgreSQL only. The data lives in a database of its own (the DATABASE_URL database's name
with `_bench_admin` appended), made once with `INSERT ... SELECT generate_series` (the
decision table's indexes are dropped for the load and built again after it) and reused by
later runs; `--regenerate` makes it again. Each page is fetched through Django's test client
as a logged-in superuser: two warm-up requests, then ROUNDS timed ones; the output is the
median and the number of queries per page.

Run: `.venv/bin/python -m bench.admin_pages` (about four minutes the first time).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from urllib.parse import urlparse, urlunparse

DECISIONS = 10_000_000
CLIENTS = 10_000
ROUTES = 200
ROUNDS = 15
BUDGET_MS = 300


def _bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("bench.admin_pages needs PostgreSQL: set DATABASE_URL=postgres://...")
    name = parts.path.lstrip("/") or "gatekeeper"
    return urlunparse(parts._replace(path=f"/{name}_bench_admin"))


os.environ["DATABASE_URL"] = _bench_database_url()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gatekeeper_project.test_settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

DECISION_TABLE = "audit_decisionrecord"

# Every statement below is fixed text: no input reaches it.
GENERATE = [
    # Routes: 200 on a few domains.
    f"""INSERT INTO routes_route
        (domain, pattern, service_name, description, created_at, updated_at)
    SELECT CASE WHEN i % 4 = 0 THEN 'api.example.com' ELSE '*' END,
           '/api/svc' || i || '/*', 'svc' || (i % 10), '', now(), now()
    FROM generate_series(1, {ROUTES}) AS i""",
    """INSERT INTO routes_routemethod (route_id, method, auth)
    SELECT r.id, m.method, 'api_key' FROM routes_route r
    CROSS JOIN (VALUES ('GET'), ('POST')) AS m(method)""",
    # Clients: ids derived from their number, so decision rows can name them.
    f"""INSERT INTO clients_client (id, name, status, description, created_at, updated_at)
    SELECT md5('client' || i)::uuid, 'client-' || lpad(i::text, 5, '0'),
           CASE WHEN i % 50 = 0 THEN 'suspended' ELSE 'active' END, '',
           now() - interval '90 days', now()
    FROM generate_series(1, {CLIENTS}) AS i""",
    # Two API keys each; some expire within two weeks, some have not been used for months.
    """INSERT INTO clients_credential
        (client_id, kind, prefix, digest, secret_encrypted, label, expires_at, revoked_at,
         last_used_at, created_at)
    SELECT c.id, 'api_key', 'gk_' || left(md5(c.id::text || k), 8),
           'sha256$' || md5(c.id::text || k) || md5(k || c.id::text), '', 'key ' || k,
           CASE WHEN random() < 0.02 THEN now() + random() * interval '20 days' END, NULL,
           now() - random() * interval '60 days', now() - interval '90 days'
    FROM clients_client c CROSS JOIN (VALUES ('1'), ('2')) AS keys(k)""",
    # Permissions: each client on three routes.
    """INSERT INTO permissions_permission (client_id, route_id, methods, created_at, updated_at)
    SELECT c.id, r.id, 'GET', now(), now()
    FROM clients_client c
    JOIN routes_route r ON r.id % 67 = (abs(hashtext(c.id::text)) % 67)""",
    """INSERT INTO permissions_ratelimit
        (client_id, route_id, "limit", "window", created_at, updated_at)
    SELECT id, NULL, 1000, 'minute', now(), now() FROM clients_client""",
    # Ten million decisions over 30 days: mostly denials, 70% naming a client.
    f"""INSERT INTO {DECISION_TABLE}
        (time, reason, detail, client_id, client_name, route_id, route_label, method, host,
         path, source_ip, shape)
    SELECT now() - (i * (interval '30 days' / {DECISIONS})),
           (ARRAY['invalid_credentials', 'no_permission', 'method_not_allowed',
                  'no_route_match', 'rate_limit_exceeded', 'authenticated'])[1 + i % 6],
           CASE WHEN i % 6 = 0 THEN (ARRAY['unknown_credential', 'expired_credential',
                'invalid_signature', 'missing_credentials'])[1 + (i / 6) % 4] ELSE '' END,
           CASE WHEN i % 10 < 7 THEN md5('client' || (1 + i % {CLIENTS}))::uuid END,
           CASE WHEN i % 10 < 7 THEN 'client-' || lpad((1 + i % {CLIENTS})::text, 5, '0')
                ELSE '' END,
           CASE WHEN i % 6 <> 3 THEN 1 + i % {ROUTES} END,
           CASE WHEN i % 6 <> 3 THEN '*/api/svc' || (1 + i % {ROUTES}) || '/*' ELSE '' END,
           (ARRAY['GET', 'POST', 'DELETE'])[1 + i % 3], 'api.example.com',
           '/api/svc' || (1 + i % {ROUTES}) || '/items/' || i,
           ('198.51.100.' || (i % 250))::inet,
           (ARRAY['nginx', 'nginx', 'nginx', 'forward'])[1 + i % 4]
    FROM generate_series(1, {DECISIONS}) AS i""",
    # The last two hours of per-minute counts.
    """INSERT INTO audit_decisioncount (minute, reason, count)
    SELECT date_trunc('minute', now()) - m * interval '1 minute', r, (random() * 500)::int
    FROM generate_series(0, 119) AS m
    CROSS JOIN unnest(ARRAY['authenticated', 'no_auth_required', 'invalid_credentials',
                            'no_permission', 'rate_limit_exceeded']) AS r""",
    """INSERT INTO audit_auditevent
        (time, actor, action, object_type, object_id, object_repr, detail)
    SELECT now() - i * interval '1 minute', 'user:bench', 'permission.granted',
           'permissions.permission', i::text, 'bench', '{}'::jsonb
    FROM generate_series(1, 5000) AS i""",
]


def ensure_database() -> None:
    params = settings.DATABASES["default"]
    admin = psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]])
        if found.fetchone() is None:
            admin.execute(f'CREATE DATABASE "{params["NAME"]}"')


def populated() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [DECISION_TABLE])
        row = cursor.fetchone()
    return bool(row) and row[0] >= DECISIONS * 0.9


def generate() -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE audit_decisionrecord, audit_decisioncount, audit_auditevent, "
            "permissions_ratelimit, permissions_permission, clients_credential, "
            "clients_client, routes_routemethod, routes_route RESTART IDENTITY CASCADE"
        )
        # Loading first and indexing after is several times faster than indexing row by row.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
            "AND indexname NOT LIKE %s",
            [DECISION_TABLE, "%_pkey"],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for statement in GENERATE:
            cursor.execute(statement)
        for _, definition in indexes:
            cursor.execute(definition)
    # Outside a transaction: VACUUM sets the visibility map (index-only scans), ANALYZE the
    # statistics the planner needs.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"generated the data in {time.perf_counter() - started:.0f} s")


def measure(browser: Client, url: str) -> tuple[float, int]:
    for _ in range(2):
        response = browser.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        browser.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        browser.get(url)
    return statistics.median(times), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regenerate", action="store_true", help="Make the data again.")
    options = parser.parse_args()
    ensure_database()
    call_command("migrate", verbosity=0)
    if options.regenerate or not populated():
        generate()
    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", "bench@example.com", "bench-password"
    )
    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM clients_client ORDER BY name LIMIT 1 OFFSET 4321")
        (client_id,) = cursor.fetchone()
    pages = {
        "overview": "/admin/",
        "client page": f"/admin/clients/client/{client_id}/change/",
        "decision list": "/admin/audit/decisionrecord/",
        "decision list, one client": f"/admin/audit/decisionrecord/?client={client_id}",
        "decision list, reason + last day": (
            "/admin/audit/decisionrecord/?reason=no_permission&within=day"
        ),
    }
    print(f"{DECISIONS:,} decision records, {CLIENTS:,} clients; median of {ROUNDS} requests")
    print(f"{'page':<34} {'median ms':>10} {'queries':>8}")
    slow = []
    for name, url in pages.items():
        median, queries = measure(browser, url)
        print(f"{name:<34} {median:>10.1f} {queries:>8}")
        if median > BUDGET_MS:
            slow.append(name)
    if slow:
        sys.exit(f"over {BUDGET_MS} ms: {', '.join(slow)}")


if __name__ == "__main__":
    main()
