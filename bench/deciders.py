"""How each decider of bench/rows.py is started (bench/servers.py runs it)."""

from __future__ import annotations

from bench.environment import DATASET_DB, Environment
from bench.servers import WORKERS, Fleet, Running, granian_argv, gunicorn_argv

OK = frozenset({200})


def decision_server(workers: int) -> list[str]:
    return ["authz.serve", "--bind", "{bind}", "--workers", str(workers)]


def start(fleet: Fleet, name: str, env: Environment) -> Running:
    """Start decider `name` (or the admin, for the login flood) and wait until it answers."""
    scene = env.scene_url
    if name == "responder":
        return fleet.responder(name)
    if name == "django":
        argv = gunicorn_argv("bench.bare_django:application", conf=True)
        django = env.django(scene, DJANGO_SETTINGS_MODULE="bench.bare_settings")
        return fleet.python(name, argv, django, ready="/authz", ready_statuses=OK)
    if name == "decisions":
        argv = decision_server(WORKERS)
        return fleet.python(name, argv, env.django(scene), ready="/health", ready_statuses=OK)
    if name == "sqlite":
        # The embedded default: SQLite, no Redis, one decision process.
        sqlite = env.django(env.sqlite_url, redis=False)
        return fleet.python(name, decision_server(1), sqlite, ready="/health", ready_statuses=OK)
    if name == "tenk":
        tenk = env.django(env.database_url(DATASET_DB))
        argv = decision_server(WORKERS)
        return fleet.python(name, argv, tenk, ready="/health", ready_statuses=OK)
    if name == "seed":
        argv = gunicorn_argv("bench.seed_decider:application", conf=True)
        return fleet.python(name, argv, env.django(scene), ready="/authz")
    if name in ("gthread", "sync"):
        argv = gunicorn_argv("bench.trivial:application", conf=False, worker_class=name)
        return fleet.python(name, argv, {}, ready="/authz")
    if name == "granian":
        return fleet.python(name, granian_argv("bench.trivial:application"), {}, ready="/authz")
    if name == "admin":
        argv = gunicorn_argv("gatekeeper_project.wsgi", conf=True)
        return fleet.python(name, argv, env.django(scene), ready="/admin/login/", ready_statuses=OK)
    raise ValueError(f"no such decider: {name}")
