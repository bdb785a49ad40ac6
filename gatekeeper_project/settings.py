"""Gatekeeper settings: the only module that reads the environment.

Every value comes from an environment variable (or a `.env` file beside `manage.py`, which
`make run` writes on first start). Defaults make `make run` work on a laptop: SQLite under
`var/`, the local-memory cache, loopback only. A value that cannot be parsed stops the start
with an `ImproperlyConfigured` error that names the variable.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A strict boolean: unlike environ's cast, `DEBUG=ture` is an error, not False."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: expected true/false, got {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.str(name, default=str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected an integer, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {value}")
    return value


def env_fraction(name: str, default: float) -> float:
    raw = env.str(name, default=str(default))
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a number from 0 to 1, got {raw!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ImproperlyConfigured(f"{name}: must be from 0 to 1, got {value}")
    return value


def env_seconds(name: str, default: float, *, minimum: float = 0.05) -> float:
    """A positive number of seconds (fractions allowed)."""
    raw = env.str(name, default=str(default))
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a number of seconds, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    return [item.strip() for item in env.list(name, default=default) if item.strip()]


def env_networks(name: str, default: list[str]) -> list[str]:
    """A list of IP networks; each entry is checked now so a typo cannot open the door later."""
    values = env_list(name, default)
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {value!r} is not an IP address or network"
            ) from None
    return values


def env_durations(name: str, default: list[str]) -> list[int]:
    """A comma-separated list of durations (`5s,30s,2m,1h`), as whole seconds."""
    from core.durations import parse_duration

    seconds = []
    for value in env_list(name, default):
        try:
            seconds.append(int(parse_duration(value).total_seconds()))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {exc}") from None
    if not seconds:
        raise ImproperlyConfigured(f"{name}: give at least one duration")
    return seconds


def _parsed(name: str, parse, default: str):
    try:
        return parse(name, default=default)
    except (ImproperlyConfigured, ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"{name}: cannot parse the value ({exc})") from None


# --- Django core -----------------------------------------------------------------------------

# Empty by default so that a deployment without SECRET_KEY fails loudly; `make run` writes one
# into .env and the test settings set their own.
SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Brute-force protection of the admin login (issue 9): failed logins and lockouts.
    "axes",
    "audit",
    "routes",
    "clients",
    "permissions",
    "authz",
    # The staff's dashboard may import every app above.
    "dashboard",
    # Webhooks hang off the audit trail and the decisions; nothing above imports them.
    "webhooks",
    # The REST admin API (/api/v1/): last, it may import every app above.
    "api",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and Redoc served from this server's static files (no CDN).
    "drf_spectacular_sidecar",
    "django_prometheus",
]

MIDDLEWARE = [
    # Log lines carry the proxy's X-Request-ID.
    "core.logging.RequestIdMiddleware",
    # Generic request metrics for the admin (decisions are served elsewhere: authz/asgi.py).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-prometheus with every label bounded (a made-up method is `other`).
    "dashboard.middleware.BoundedPrometheusAfterMiddleware",
    # Last, as django-axes asks: answers a locked-out login with 429.
    "axes.middleware.AxesMiddleware",
]

# django-axes checks the lockout before any other backend tries the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "gatekeeper_project.urls"
WSGI_APPLICATION = "gatekeeper_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": _parsed(
        "DATABASE_URL", env.db_url, f"sqlite:///{BASE_DIR / 'var' / 'gatekeeper.sqlite3'}"
    )
}
if DATABASES["default"].get("ENGINE") not in (
    "django.db.backends.postgresql",
    "django.db.backends.sqlite3",
):
    raise ImproperlyConfigured("DATABASE_URL: use postgres://... or sqlite:///...")
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that accepts connections but never answers must not hold request threads
    # for minutes: decisions go on from the snapshot, but only if threads stay free.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 2, minimum=1)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("GATEKEEPER_CACHE_PREFIX", default="gk"),
            "TIMEOUT": None,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    # The embedded default: one process (gunicorn with one worker), so local memory is shared
    # by everything that needs it.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "gatekeeper",
            "TIMEOUT": None,
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves the admin's assets from the app directories when collectstatic has not run.
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

# --- admin login: brute-force protection (django-axes, kept in the database: no Redis needed) ---
# After this many failed logins a username is locked (from every address), and so is the
# address (for every username), until the cool-off has passed or staff reset it
# (`manage.py axes_reset`, or delete the row under "Access attempts").
AXES_FAILURE_LIMIT = env_int("GATEKEEPER_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("GATEKEEPER_LOGIN_COOLOFF", 900, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
# The client address of a login: the peer, or behind a proxy in GATEKEEPER_TRUSTED_PROXIES the
# last X-Forwarded-For entry (the one that proxy added). See dashboard/login_guard.py.
AXES_CLIENT_IP_CALLABLE = "dashboard.login_guard.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# Failures and lockouts are still logged (warnings); not every successful login and start.
AXES_VERBOSE = False

# JSON lines (core/logging.py) for log collectors; `LOG_FORMAT=plain` for people reading along.
LOG_FORMAT = env.str("LOG_FORMAT", default="json").strip().lower()
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT: expected json or plain, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["stdout"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Every deny is a 4xx at /authz and is logged once by Gatekeeper with its reason; Django's
    # own "Forbidden: /authz" line per deny would only double the volume.
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- the REST admin API (api/) ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        # The browser (Swagger UI, a logged-in admin): session cookie, with CSRF on writes.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.StaffModelPermissions"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pages",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.problem_response",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gatekeeper admin API",
    "DESCRIPTION": (
        "Routes, clients, credentials, permissions and rate limits; the audit trail and the "
        "decision records; the engine's explanation of a request; the whole configuration as "
        "one document. Authenticate with `Authorization: Bearer gka_...` (an API token) or a "
        "staff session. Errors are RFC 9457 problem details."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.problem_responses",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ClientStatus": "clients.models.Client.Status",
        "CredentialKind": "clients.models.Credential.Kind",
        "RateLimitWindow": "permissions.models.RateLimit.Window",
    },
}
# API tokens: valid this many days unless the issuer says otherwise (at most the maximum).
GATEKEEPER_API_TOKEN_DAYS = env_int("GATEKEEPER_API_TOKEN_DAYS", 90, minimum=1)
GATEKEEPER_API_TOKEN_MAX_DAYS = env_int("GATEKEEPER_API_TOKEN_MAX_DAYS", 366, minimum=1)
# Brute force on tokens: after this many failed token logins from one address within the
# window (seconds), that address gets 429 until the window has passed.
GATEKEEPER_API_TOKEN_FAILURES = env_int("GATEKEEPER_API_TOKEN_FAILURES", 20, minimum=1)
GATEKEEPER_API_TOKEN_FAILURE_WINDOW = env_int("GATEKEEPER_API_TOKEN_FAILURE_WINDOW", 300, minimum=1)

# --- Gatekeeper ------------------------------------------------------------------------------

# Where a server keeps its local state: the audit spool, the single-process lock, metrics files.
GATEKEEPER_STATE_DIR = Path(env.str("GATEKEEPER_STATE_DIR", default=str(BASE_DIR / "var")))

# --- the decision server (authz/serve.py) ---
# Where proxies ask; the admin listens elsewhere (deploy/gunicorn.conf.py, GATEKEEPER_BIND).
GATEKEEPER_DECISION_BIND = env.str("GATEKEEPER_DECISION_BIND", default="127.0.0.1:7844")
# Decision processes. Without Redis only one may decide (nonces and counters are per process).
GATEKEEPER_DECISION_WORKERS = env_int("WEB_CONCURRENCY", 2 if REDIS_URL else 1, minimum=1)
# Request bodies (HMAC over the body) are read up to this size; a larger one is unavailable.
# Envoy's deploy config buffers up to 4 MiB.
GATEKEEPER_MAX_BODY_BYTES = env_int("GATEKEEPER_MAX_BODY_BYTES", 4 * 1024 * 1024, minimum=1)
# An access log line per decision request, path only (nginx logs every request already).
GATEKEEPER_DECISION_ACCESS_LOG = env_bool("GATEKEEPER_DECISION_ACCESS_LOG", False)

# Fernet keys for HMAC secrets at rest: the first encrypts, every one decrypts (rotation).
GATEKEEPER_SECRET_KEYS = env_list("GATEKEEPER_SECRET_KEYS", [])
# Peers allowed to ask for decisions (design §5). Loopback only by default.
GATEKEEPER_TRUSTED_PROXIES = env_networks("GATEKEEPER_TRUSTED_PROXIES", ["127.0.0.0/8", "::1/128"])
# Allowed clock difference for HMAC timestamps, in seconds.
GATEKEEPER_HMAC_MAX_SKEW = env_int("GATEKEEPER_HMAC_MAX_SKEW", 300, minimum=1)
# Redis down: HMAC decisions fail closed (replay cannot be checked) unless this is true.
GATEKEEPER_HMAC_FAIL_OPEN = env_bool("GATEKEEPER_HMAC_FAIL_OPEN", False)
# Query parameter names that may carry an API key.
GATEKEEPER_API_KEY_QUERY_PARAMS = env_list("GATEKEEPER_API_KEY_QUERY_PARAMS", ["api_key"])
# django-axes stores a failed login's query and form; mask what may be a key as well as its
# own defaults (the password is always masked).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", *GATEKEEPER_API_KEY_QUERY_PARAMS]
# Default grace period of `rotate_credentials`, in seconds.
GATEKEEPER_ROTATION_GRACE = env_int("GATEKEEPER_ROTATION_GRACE", 24 * 3600)

# --- imported API keys ---
# Server-side secrets ("peppers") that imported legacy keys are hashed with (HMAC-SHA-256; see
# clients/keys.py): the first hashes new imports, every one is tried on lookup, so a new pepper
# goes first and old ones stay after it. Checked by clients.E003. Empty: imports are refused.
GATEKEEPER_KEY_PEPPERS = env_list("GATEKEEPER_KEY_PEPPERS", [])

# How long a decision waits for Redis (nonces, rate limits) before its failure policy answers;
# after a failure Redis is left alone for a second (authz/redis_server.py Breaker).
GATEKEEPER_REDIS_TIMEOUT = env_seconds("GATEKEEPER_REDIS_TIMEOUT", 0.1, minimum=0.005)

# --- rate limits (design §5, §7) ---
# Redis unreachable: decisions go on without limits (true, the default) or are denied (false).
GATEKEEPER_RATE_LIMIT_FAIL_OPEN = env_bool("GATEKEEPER_RATE_LIMIT_FAIL_OPEN", True)

# --- decision audit ---
# Every deny is audited; this share of allows too (0.0 to 1.0).
GATEKEEPER_AUDIT_ALLOW_SAMPLE = env_fraction("GATEKEEPER_AUDIT_ALLOW_SAMPLE", 0.0)
# Rows a decision process keeps in its spool while the database cannot take them; beyond
# this, new rows are dropped (and counted).
GATEKEEPER_AUDIT_QUEUE_SIZE = env_int("GATEKEEPER_AUDIT_QUEUE_SIZE", 100_000, minimum=1)
# How often each decision process copies its spooled rows into the database (seconds).
GATEKEEPER_AUDIT_FLUSH_SECONDS = env_seconds("GATEKEEPER_AUDIT_FLUSH_SECONDS", 0.5)
# Denials written per second per source address (per decision process); beyond it they are
# counted but not written, so a flood cannot fill the disk.
GATEKEEPER_AUDIT_DENY_RATE = env_int("GATEKEEPER_AUDIT_DENY_RATE", 50, minimum=1)

# --- metrics ---
# /metrics is served to these networks only, or to anyone presenting the token (Bearer).
GATEKEEPER_METRICS_ALLOWED = env_networks("GATEKEEPER_METRICS_ALLOWED", ["127.0.0.0/8", "::1/128"])
GATEKEEPER_METRICS_TOKEN = env.str("GATEKEEPER_METRICS_TOKEN", default="")
# Set by deploy/gunicorn.conf.py: each worker writes its metrics there and /metrics merges them
# (prometheus_client reads the same variable).
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    # prometheus_client writes there as soon as a metric is defined (at import, by any command,
    # `migrate` included) and fails on a missing directory: make it, private to this user.
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(mode=0o700, parents=True, exist_ok=True)

# --- webhooks (webhooks/, README "Webhooks") ---
# Networks a webhook may be delivered to although they are not public (loopback, private,
# link-local, metadata addresses are refused otherwise), e.g. `10.20.0.0/16`.
GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS = env_networks("GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS", [])
# One delivery attempt, from DNS lookup to the end of the (capped) response, in seconds.
GATEKEEPER_WEBHOOK_TIMEOUT = env_seconds("GATEKEEPER_WEBHOOK_TIMEOUT", 10.0, minimum=0.5)
# The wait before each retry of a failed delivery (each varied by up to 20% either way):
# about a day in all. After the last one the delivery has failed.
GATEKEEPER_WEBHOOK_RETRY_SCHEDULE = env_durations(
    "GATEKEEPER_WEBHOOK_RETRY_SCHEDULE",
    ["5s", "30s", "2m", "10m", "30m", "1h", "2h", "4h", "8h", "8h"],
)
# Deliveries one worker process sends at once.
GATEKEEPER_WEBHOOK_CONCURRENCY = env_int("GATEKEEPER_WEBHOOK_CONCURRENCY", 4, minimum=1)
# How often an idle worker looks for due deliveries, in seconds.
GATEKEEPER_WEBHOOK_POLL_SECONDS = env_seconds("GATEKEEPER_WEBHOOK_POLL_SECONDS", 1.0)
# `credential.expiring` is sent this many days before a credential expires (once for each).
GATEKEEPER_WEBHOOK_EXPIRING_DAYS = env_int("GATEKEEPER_WEBHOOK_EXPIRING_DAYS", 7, minimum=1)
# `auth_failures.threshold`: this many failed authentications of one client within the window.
GATEKEEPER_WEBHOOK_AUTH_FAILURES = env_int("GATEKEEPER_WEBHOOK_AUTH_FAILURES", 20, minimum=1)
GATEKEEPER_WEBHOOK_AUTH_FAILURE_WINDOW = env_int(
    "GATEKEEPER_WEBHOOK_AUTH_FAILURE_WINDOW", 60, minimum=1
)
# A decision process hands on a decision-driven event for one client at most this often (in
# seconds); each endpoint's own cooldown then decides what is sent.
GATEKEEPER_WEBHOOK_SIGNAL_INTERVAL = env_seconds("GATEKEEPER_WEBHOOK_SIGNAL_INTERVAL", 10.0)
