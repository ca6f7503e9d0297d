"""Settings of the HVAC CRM: one module, every value from the environment (12-factor).

Development defaults are safe for a laptop; with DEBUG off the module refuses to load on an
insecure secret key or empty ALLOWED_HOSTS, so a misconfigured production process never starts.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is read when present (never committed); real deployments set the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Always from the environment. `make run` keeps a random one per checkout in var/local.env; a
# development one-off command without it gets a throw-away key; production refuses to start.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    from django.core.management.utils import get_random_secret_key

    SECRET_KEY = get_random_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
TESTING = env.bool("TESTING", default=False)


def _check_production_settings() -> None:
    """Refuse to start a production process on settings that would make it unsafe."""
    if DEBUG:
        return
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or insecure: set a random value of at least 50 characters."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is empty: list the host names this site serves.")
    if "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must not contain '*' in production.")


_check_production_settings()

INSTALLED_APPS = [
    "daphne",
    # SimpleAdminConfig: no autodiscovery, because leaflet.admin imports GeoDjango (GDAL), which
    # we do not install. hvaccrm.urls imports the admin modules of every other app explicitly.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "channels",
    "leaflet",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Job history (docs/jobs.md): row events written by PostgreSQL triggers.
    "pgtrigger",
    "pghistory",
    "hvaccrm",
    "communications",
    "mapping",
    "prophecy",
    "audit",
    "portal",
    "techapp",
    "integration",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hvaccrm.middleware.NoStoreForAuthenticatedMiddleware",
    # Every staff read of personal data leaves one access-trail row (hvaccrm/access_trail.py).
    "hvaccrm.access_trail.AccessTrailMiddleware",
    # Axes must be last: it inspects the result of the authentication attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hvaccrm.urls"
ASGI_APPLICATION = "hvaccrm.asgi.application"
WSGI_APPLICATION = "hvaccrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data stores -------------------------------------------------------------------------------
# No SQLite and no in-memory channel layer: `make run`/`make test` start an embedded PostgreSQL
# and Redis and export these URLs when the operator did not set them.
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/hvaccrm")}
if not DATABASES["default"].get("HOST") and "host" in DATABASES["default"].get("OPTIONS", {}):
    # A Unix-socket directory given as ?host=/path (the embedded server) is the connection's host.
    DATABASES["default"]["HOST"] = DATABASES["default"]["OPTIONS"].pop("host")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A kept connection (CONN_MAX_AGE > 0, e.g. the emergency worker) is checked before its first use
# after a task or request: one broken by a database restart is replaced, not failed on.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A bounded pool of connections per process (psycopg_pool, Django's own OPTIONS["pool"]): a request
# borrows one and gives it back, so a busy web process holds at most DB_POOL_MAX of PostgreSQL's
# connections (max_connections, 100 by default) and saves a new connection per request. One that
# cannot get a connection within DB_POOL_TIMEOUT seconds fails with PoolTimeout ("couldn't get a
# connection after N sec"), never by exhausting the server. 0 = no pool. The web server's entry point
# (hvaccrm/asgi.py) turns it on; Celery's prefork workers, commands and tests run without: Celery
# closes a pool after every task of a prefork child, and a forked child would share the pool's sockets.
# Pooling excludes kept connections (CONN_MAX_AGE > 0, the emergency worker's).
DB_POOL_MAX = env.int("DB_POOL_MAX", default=0)
if DB_POOL_MAX > 0 and DATABASES["default"]["CONN_MAX_AGE"] == 0:
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": min(env.int("DB_POOL_MIN", default=2), DB_POOL_MAX),
        "max_size": DB_POOL_MAX,
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        "max_idle": 300.0,  # idle connections above min_size are closed after 5 minutes
        "name": "hvaccrm",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

# A lost Redis is an empty cache (hvaccrm/cache.py): pages and the API keep answering while it is
# down (proof/test_fault_broker_down.py); counting callers (login throttling) fail closed.
CACHES = {
    "default": {
        "BACKEND": "hvaccrm.cache.TolerantRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="hvaccrm"),
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 2},
    }
}

# RedisChannelLayer by measurement (bench/bench_communications.py): PubSub fans out faster but
# buffers without limit in a slow consumer's process; the core layer's capacity keeps memory bounded.
# Ours receives a server process's messages in batches (hvaccrm/realtime/layer.py: the fan-out floor).
CHANNEL_LAYER_BACKEND = env.str(
    "CHANNEL_LAYER_BACKEND", default="hvaccrm.realtime.layer.BatchingRedisChannelLayer"
)
# Seconds a group membership lives in Redis unless renewed (channels-redis's own default is a day).
# It exists to drop memberships leaked by a crashed server process; an open socket renews its own
# on every heartbeat (WS_HEARTBEAT_SECONDS, at most a third of this), so it never goes deaf.
CHANNEL_GROUP_EXPIRY = env.int("CHANNEL_GROUP_EXPIRY", default=3600)
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": CHANNEL_LAYER_BACKEND,
        "CONFIG": {
            "hosts": [REDIS_URL],
            "prefix": env.str("CHANNEL_PREFIX", default="asgi"),
        },
    }
}
if CHANNEL_LAYER_BACKEND.endswith(("core.RedisChannelLayer", "layer.BatchingRedisChannelLayer")):
    # Bounded per-channel queues so one slow consumer cannot grow Redis without limit. The sockets of
    # one server process share ONE Redis list (channels-redis's "specific.<process>!" channels), so
    # its bound is per process: 200 dropped pushes once a fan-out passed 200 sockets of a process
    # (bench/bench_realtime.py measured 0.76 received/sent with 1,000 sockets before this).
    CHANNEL_LAYERS["default"]["CONFIG"].update({
        "capacity": 200, "expiry": 30, "group_expiry": CHANNEL_GROUP_EXPIRY,
        "channel_capacity": {"specific.*": env.int("CHANNEL_PROCESS_CAPACITY", default=20000)},
    })

# --- Celery ------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="hvaccrm")
# Emergencies have a queue of their own, served by its own worker (`make run`, docs/operations.md),
# so no backlog on the default queue (vector syncs, re-plans) can delay an alert.
CELERY_EMERGENCY_QUEUE = env.str("CELERY_EMERGENCY_QUEUE", default=f"{CELERY_TASK_DEFAULT_QUEUE}-emergency")
CELERY_TASK_ROUTES = {
    # The escalation chain's timeouts run beside the alerts they advance.
    "communications.tasks.escalation_sweep": {"queue": CELERY_EMERGENCY_QUEUE},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "Europe/Warsaw"

# --- Vector store ------------------------------------------------------------------------------
WEAVIATE_URL = env.str("WEAVIATE_URL", default="")
WEAVIATE_API_KEY = env.str("WEAVIATE_API_KEY", default="")
VECTOR_STORE_BACKEND = env.str("VECTOR_STORE_BACKEND", default="weaviate" if WEAVIATE_URL else "embedded")

# --- Outside services (all optional; each app reads its own gateways in <app>/conf.py) ---------
MAP_TILE_URL = env.str("MAP_TILE_URL", default="https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- E-mail ------------------------------------------------------------------------------------
# In development without EMAIL_URL every e-mail is kept as a file in EMAIL_FILE_PATH (the admin's
# staff page "Sent e-mails" reads them): the console backend printed dozens of demo e-mails over
# `make run`'s terminal, burying its URLs, logins and errors.
vars().update(env.email_url("EMAIL_URL", default="filemail://" if DEBUG and not TESTING else "consolemail://"))
# After the URL: django-environ reads a filemail:// URL's path without its leading slash.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="HVAC CRM <biuro@hvac.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Auth and security -------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing cost is not what the tests measure; a fast hasher keeps the suite quick.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# A second factor for staff in the admin: required whenever DEBUG is off.
STAFF_OTP_REQUIRED = env.bool("STAFF_OTP_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = "HVAC CRM"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # /healthz is probed over plain HTTP by the load balancer inside the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https://*.tile.openstreetmap.org"]
        + env.list("CSP_IMG_EXTRA", default=[]),
        "connect-src": ["'self'", "ws:", "wss:"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "pl"
LANGUAGES = [("pl", _("Polish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Warsaw"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names need `collectstatic` at release; off for development and tests.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG and not TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first, so that an unauthenticated request gets 401 with WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["hvaccrm.drf_parsers.DepthLimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "hvaccrm.drf.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "hvaccrm.drf.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "integration": env.str("THROTTLE_INTEGRATION", default="120/min"),
        "gps": env.str("THROTTLE_GPS", default="600/min"),
    },
}
REST_KNOX = {"TOKEN_TTL": __import__("datetime").timedelta(days=30), "AUTO_REFRESH": True}
SPECTACULAR_SETTINGS = {
    "TITLE": "HVAC CRM API",
    "DESCRIPTION": "API of the HVAC CRM: core, communications, mapping, prophecy, audit.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Leaflet (django-leaflet: template tags and bundled assets only, no GeoDjango) -------------
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (52.2297, 21.0122),
    "DEFAULT_ZOOM": 11,
    "MIN_ZOOM": 9,
    "MAX_ZOOM": 18,
    "TILES": [("OSM", MAP_TILE_URL, {"attribution": "&copy; OpenStreetMap contributors"})],
    "RESET_VIEW": False,
}

# --- Real-time limits --------------------------------------------------------------------------
WS_MAX_FRAME_BYTES = env.int("WS_MAX_FRAME_BYTES", default=16 * 1024)
WS_RATE_LIMIT = env.int("WS_RATE_LIMIT", default=30)  # frames per WS_RATE_WINDOW seconds
WS_RATE_WINDOW = env.float("WS_RATE_WINDOW", default=10.0)
WS_TICKET_TTL = env.int("WS_TICKET_TTL", default=60)
# A heartbeat frame every this many seconds (capped at a third of the group expiry): it renews the
# socket's group memberships and its slot in the per-user count, and lets the page show "live".
WS_HEARTBEAT_SECONDS = min(env.float("WS_HEARTBEAT_SECONDS", default=25.0), CHANNEL_GROUP_EXPIRY / 3)
WS_MAX_SOCKETS_PER_USER = env.int("WS_MAX_SOCKETS_PER_USER", default=10)

# Wrappers of Django's HTTP app in the ASGI entry point (hvaccrm/asgi.py), innermost first: the
# gateways' webhooks (/communications/inbound/) skip the session, user, OTP, CSP and access-trail
# middleware a signed anonymous request never uses (docs/channels.md).
ASGI_HTTP_WRAPPERS = ["communications.inbound.asgi.webhooks_apart"]

# --- Outbox ------------------------------------------------------------------------------------
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
# A run that lost its database connection gives its attempt back (an outage is not the row's
# fault), at most this many times per row, so a handler that always breaks its connection ends dead.
OUTBOX_MAX_CONNECTION_LOSSES = env.int("OUTBOX_MAX_CONNECTION_LOSSES", default=20)
OUTBOX_BACKOFF_BASE = env.float("OUTBOX_BACKOFF_BASE", default=30.0)  # seconds
OUTBOX_BACKOFF_MAX = env.float("OUTBOX_BACKOFF_MAX", default=6 * 3600.0)
OUTBOX_PUBLISH_ON_COMMIT = env.bool("OUTBOX_PUBLISH_ON_COMMIT", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "daphne": {"level": "WARNING"}},
}

# Maintenance agreements and the F-gas register (docs/maintenance.md)
MAINTENANCE_HORIZON_DAYS = env.int("MAINTENANCE_HORIZON_DAYS", default=60)  # the generator plans this far
# The season each agreement visit belongs in, as "first-last" month numbers.
MAINTENANCE_COOLING_MONTHS = env.str("MAINTENANCE_COOLING_MONTHS", default="3-5")
MAINTENANCE_HEATING_MONTHS = env.str("MAINTENANCE_HEATING_MONTHS", default="8-10")
MAINTENANCE_REMINDER_DAYS = env.int("MAINTENANCE_REMINDER_DAYS", default=7)  # clients reminded this early
AGREEMENT_END_NOTICE_DAYS = env.int("AGREEMENT_END_NOTICE_DAYS", default=30)  # office told before an end
FGAS_EXPIRY_NOTICE_DAYS = env.int("FGAS_EXPIRY_NOTICE_DAYS", default=60)  # office told before a certificate lapses
LEAK_FOLLOW_UP_DAYS = env.int("LEAK_FOLLOW_UP_DAYS", default=30)  # a repaired leak is checked again within
# Polish public holidays are closed for booking and planning (hvaccrm/closed_days.py) unless the
# company opens them: ISO dates, e.g. OPEN_HOLIDAYS=2026-12-24,2027-01-06.
OPEN_HOLIDAYS = env.list("OPEN_HOLIDAYS", default=[])
