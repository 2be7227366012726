"""Haat settings: everything comes from the environment, with safe defaults.

Development (the default) needs no configuration at all: SQLite in ``data/``, console e-mail,
DEBUG on. ``HAAT_ENV=production`` turns DEBUG off, demands a real SECRET_KEY and switches on the
HTTPS/cookie hardening that ``manage.py check --deploy`` asks for.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("HAAT_DATA_DIR", BASE_DIR / "data"))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_rate(name: str, default: str) -> str | None:
    """A rate limit: ``20/10m`` (20 per 10 minutes; periods s, m, h, d) or ``off``."""
    value = (os.environ.get(name) or default).strip().lower()
    if value == "off":
        return None
    if not re.fullmatch(r"[1-9][0-9]*/([1-9][0-9]*)?[smhd]", value):
        raise ImproperlyConfigured(
            f"{name} must look like 20/10m (count/period) or off, not {value!r}"
        )
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


HAAT_ENV = os.environ.get("HAAT_ENV", "development")
if HAAT_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("HAAT_ENV must be 'development' or 'production'")
PRODUCTION = HAAT_ENV == "production"

DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when HAAT_ENV=production "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    # Development only: a fixed, obviously-insecure key so sessions survive restarts.
    SECRET_KEY = "django-insecure-haat-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves its bundled Swagger UI at /api/docs (no CDN)
    "accounts",
    "catalog",
    "cart",
    "wishlist",
    "checkout",
    "orders",
    "payments",
    "axes",
]

MIDDLEWARE = [
    # First, so it sees every answer: errors under /api/ always answer {code, message, details}.
    "haat.middleware.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below whitenoise (its files come compressed) and above whatever writes a page's body.
    "haat.middleware.PageGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common: the language comes from the shopper's cookie, else from
    # Accept-Language (URLs carry no language prefix).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: resuming a pending action after a Clerk sign-in leaves a message.
    "accounts.middleware.ClerkAuthenticationMiddleware",
    # After every sign-in: a signed-in shopper's saved language wins over the browser's.
    "accounts.middleware.AccountLanguageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "haat.limits.RateLimitMiddleware",
    # Last, as django-axes asks: turns a sign-in lockout into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "haat.urls"
WSGI_APPLICATION = "haat.wsgi.application"

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
                "django.template.context_processors.csp",
                "haat.context_processors.shop",
            ],
            "builtins": [
                "django.templatetags.i18n",
                "catalog.templatetags.money",
                "catalog.templatetags.catalog_extras",
                "haat.shared_fragments",
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "haat.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take SQLite's write lock up front, so two writers queue up
    # instead of failing with "database is locked" halfway through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Seconds to wait for the server to accept a connection (an unreachable host otherwise
    # holds a request, or a readiness check, for minutes).
    _pg_options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
    # A lock held too long or a runaway query ends in an error that Haat answers with 503
    # store_busy, instead of holding a worker until the load balancer gives up (0 = no limit).
    DATABASE_LOCK_TIMEOUT_MS = env_int("DATABASE_LOCK_TIMEOUT_MS", 5000)
    DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 15000)
    if DATABASE_LOCK_TIMEOUT_MS < 0 or DATABASE_STATEMENT_TIMEOUT_MS < 0:
        raise ImproperlyConfigured(
            "DATABASE_LOCK_TIMEOUT_MS and DATABASE_STATEMENT_TIMEOUT_MS must be 0 or more."
        )
    _pg_options["options"] = " ".join(
        part
        for part in (
            _pg_options.get("options", ""),  # anything DATABASE_URL's ?options= asked for
            f"-c lock_timeout={DATABASE_LOCK_TIMEOUT_MS}",
            f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}",
        )
        if part
    )
    # Production: psycopg's pool in each process, so a server holds at most MAX_SIZE
    # connections per process whatever its thread count (README: Operations has the figures).
    # Development and tests keep one persistent connection per thread. A pool lends a
    # connection per request, so persistent connections must be off with it.
    DATABASE_POOL = env_bool("DATABASE_POOL", PRODUCTION)
    if DATABASE_POOL:
        _pool = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 4),
            # Seconds a request waits for a free connection before it fails.
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
        }
        if not 1 <= _pool["min_size"] <= _pool["max_size"] or _pool["timeout"] < 1:
            raise ImproperlyConfigured(
                "DATABASE_POOL_MIN_SIZE must be at least 1 and at most DATABASE_POOL_MAX_SIZE; "
                "DATABASE_POOL_TIMEOUT at least 1."
            )
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        _pg_options["pool"] = _pool
# Each test run may name its own test database, so two runs on one server never collide, and
# clone it from an already migrated database (make test builds one: scripts/run_tests.py).
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
if os.environ.get("TEST_DATABASE_TEMPLATE") and DATABASES["default"]["ENGINE"].endswith(
    "postgresql"
):
    DATABASES["default"].setdefault("TEST", {})["TEMPLATE"] = os.environ["TEST_DATABASE_TEMPLATE"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "catalog:home"
LOGOUT_REDIRECT_URL = "catalog:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Cache and sessions ----------------------------------------------------------------
# Sessions and abuse limits must be shared by every process and every host: a per-process
# memory cache would let a signed-out session live on in the other workers. With REDIS_URL,
# Redis is the cache and sessions are cached_db on it (the database stays the truth, so a Redis
# restart signs nobody out); short socket timeouts make an outage degrade instead of hang.
# Without it, sessions live in the database and the cache is a database table (created by
# accounts' migrations, so plain `migrate` is enough).
REDIS_URL = os.environ.get("REDIS_URL", "")
try:
    REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT") or "0.5")
except ValueError:
    raise ImproperlyConfigured("REDIS_SOCKET_TIMEOUT must be a number of seconds") from None
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, with one Redis client per pool instead of one per call (haat/cache.py).
            "BACKEND": "haat.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "haat",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
    SESSION_ENGINE = "haat.sessions"
else:
    CACHES = {
        "default": {
            "BACKEND": "haat.cache.DatabaseCache",
            "LOCATION": "haat_cache",
            # Culling would throw away live rate-limit counters; expired rows go first anyway.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
# The catalogue's rendered cards and page data (catalog/cached.py): on Redis when there is one,
# else in each process's memory. Either is safe: every key carries the version of its data,
# and the one counter that must be shared (the categories' version) is in "default".
CACHES["catalog"] = (
    dict(CACHES["default"], KEY_PREFIX="haat-catalog")
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "haat-catalog",
        "OPTIONS": {"MAX_ENTRIES": 20_000},
    }
)

# --- Abuse limits -----------------------------------------------------------------------
# Counted in the shared cache (above), so all processes and hosts count together; over a
# limit the answer is 429 with Retry-After (haat/limits.py). Generous for real shoppers.
RATE_LIMITS = {
    "sign_up_ip": env_rate("RATE_LIMIT_SIGN_UP_IP", "10/h"),
    "sign_up_email": env_rate("RATE_LIMIT_SIGN_UP_EMAIL", "3/h"),
    "password_reset_ip": env_rate("RATE_LIMIT_PASSWORD_RESET_IP", "10/h"),
    "password_reset_email": env_rate("RATE_LIMIT_PASSWORD_RESET_EMAIL", "3/h"),
    "checkout": env_rate("RATE_LIMIT_CHECKOUT", "10/10m"),
    "cart_write": env_rate("RATE_LIMIT_CART_WRITES", "300/5m"),
}
# Behind N reverse proxies, the client is the Nth address from the right of X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# A counter the cache could not read or write lets the request through (an outage is logged).
RATELIMIT_FAIL_OPEN = True
# Sign-in lockout (django-axes, shopper sign-in and /admin/login/): per account and per IP,
# counted in the database (exact under concurrency, unaffected by a Redis restart or outage,
# visible and clearable in the admin). A lockout ends by itself after the cool-off; a
# successful password reset lifts the account's at once; failures while locked out are not
# counted, so a lockout can never be made permanent.
SIGN_IN_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 10)
SIGN_IN_IP_FAILURE_LIMIT = env_int("SIGN_IN_IP_FAILURE_LIMIT", 50)
SIGN_IN_LOCKOUT_MINUTES = env_int("SIGN_IN_LOCKOUT_MINUTES", 15)
if not 1 <= SIGN_IN_FAILURE_LIMIT <= SIGN_IN_IP_FAILURE_LIMIT or SIGN_IN_LOCKOUT_MINUTES < 1:
    raise ImproperlyConfigured(
        "Need 1 <= SIGN_IN_FAILURE_LIMIT <= SIGN_IN_IP_FAILURE_LIMIT and SIGN_IN_LOCKOUT_MINUTES >= 1"
    )
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out sign-ins before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "accounts.lockout.SignInLockoutHandler"
AXES_FAILURE_LIMIT = SIGN_IN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=SIGN_IN_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.sign_in_username"
AXES_CLIENT_IP_CALLABLE = "haat.limits.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# --- Sign-in provider --------------------------------------------------------------------
# "django" (default): Haat's own accounts. "clerk": shoppers sign in with Clerk; sessions are
# verified locally with CLERK_JWT_KEY (no network), and Clerk user ids map to local users.
AUTH_PROVIDER = os.environ.get("AUTH_PROVIDER", "django")
if AUTH_PROVIDER not in {"django", "clerk"}:
    raise ImproperlyConfigured("AUTH_PROVIDER must be 'django' or 'clerk'")
CLERK_PUBLISHABLE_KEY = os.environ.get("CLERK_PUBLISHABLE_KEY", "")
CLERK_JWT_KEY = os.environ.get("CLERK_JWT_KEY", "").replace("\\n", "\n")
CLERK_ISSUER = os.environ.get("CLERK_ISSUER", "")
CLERK_AUTHORIZED_PARTIES = env_list("CLERK_AUTHORIZED_PARTIES", [])
CLERK_WEBHOOK_SECRET = os.environ.get("CLERK_WEBHOOK_SECRET", "")
if AUTH_PROVIDER == "clerk":
    _missing = [
        name
        for name, value in {
            "CLERK_PUBLISHABLE_KEY": CLERK_PUBLISHABLE_KEY,
            "CLERK_JWT_KEY": CLERK_JWT_KEY,
            "CLERK_ISSUER": CLERK_ISSUER,
            "CLERK_AUTHORIZED_PARTIES": CLERK_AUTHORIZED_PARTIES,
        }.items()
        if not value
    ]
    if _missing:
        raise ImproperlyConfigured(
            "AUTH_PROVIDER=clerk needs " + ", ".join(_missing) + " (see README: Clerk)."
        )
    if "BEGIN PUBLIC KEY" not in CLERK_JWT_KEY:
        raise ImproperlyConfigured(
            "CLERK_JWT_KEY must be the PEM public key from Clerk's dashboard (API keys → JWT public key)."
        )

# --- I18N ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("bn", "বাংলা")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switch's choice, kept a year (signed-in shoppers also keep it on their account).
LANGUAGE_COOKIE_NAME = "haat_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Dhaka")
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
# Haat serves uploaded product images itself unless a front server does it (SERVE_MEDIA=false).
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "haat.staticfiles.MinifiedStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- E-mail -------------------------------------------------------------------------------
# Development prints mails to the console; production sends them through EMAIL_HOST (SMTP).
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}
_email_backend = os.environ.get("EMAIL_BACKEND", "smtp" if PRODUCTION else "console")
if _email_backend not in _EMAIL_BACKENDS:
    raise ImproperlyConfigured("EMAIL_BACKEND must be 'console' or 'smtp'")
MAILERS: dict[str, dict] = {"default": {"BACKEND": _EMAIL_BACKENDS[_email_backend]}}
if _email_backend == "smtp":
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 587),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", True),
        "timeout": 15,
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Haat <shop@haat.localhost>")

# --- Background work (haat/background.py) --------------------------------------------------
# Mails that would reveal whether an address has an account (sign-up, password reset) are
# sent outside the request. "thread": a small pool per process; "inline": at once (debugging).
BACKGROUND_TASKS = os.environ.get("BACKGROUND_TASKS", "thread")
if BACKGROUND_TASKS not in {"thread", "inline"}:
    raise ImproperlyConfigured("BACKGROUND_TASKS must be 'thread' or 'inline'")
# How long a sign-up confirmation link works (seconds; Django's reset links use the same).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 60 * 60)

# --- Shop ---------------------------------------------------------------------------------
SHOP_NAME = os.environ.get("SHOP_NAME", "Haat")
SHOP_CURRENCY = os.environ.get("SHOP_CURRENCY", "BDT").upper()
PRODUCTS_PER_PAGE = env_int("PRODUCTS_PER_PAGE", 40)
# bench/floor.py's reference endpoint (/bench/floor): the cheapest request through the whole
# middleware stack. Off unless a benchmark asks for it; it answers "ok" and shows no data.
BENCH_FLOOR_ENDPOINT = env_bool("BENCH_FLOOR_ENDPOINT", False)
LOW_STOCK_THRESHOLD = env_int("LOW_STOCK_THRESHOLD", 5)
# Where carts and wishlists live: "database" (Haat's own database) or "sanity" (a Sanity
# dataset, which also gets a copy of the catalogue and its stock, delivered from the database
# through an outbox; the database stays the one authority for stock and the ledger).
STORE_BACKEND = os.environ.get("STORE_BACKEND", "database")
if STORE_BACKEND not in {"database", "sanity"}:
    raise ImproperlyConfigured("STORE_BACKEND must be 'database' or 'sanity'")
SANITY_PROJECT_ID = os.environ.get("SANITY_PROJECT_ID", "")
SANITY_DATASET = os.environ.get("SANITY_DATASET", "production")
SANITY_API_VERSION = os.environ.get("SANITY_API_VERSION", "2025-02-19")
SANITY_TOKEN = os.environ.get("SANITY_TOKEN", "")  # server-side only, never sent to browsers
SANITY_API_HOST = os.environ.get("SANITY_API_HOST", "")  # default https://<project>.api.sanity.io
SANITY_MAX_ATTEMPTS = env_int("SANITY_MAX_ATTEMPTS", 12)
SANITY_TIMEOUT_SECONDS = env_int("SANITY_TIMEOUT_SECONDS", 10)  # per request; then it is retried
if STORE_BACKEND == "sanity":
    _missing_sanity = [
        name
        for name, value in {
            "SANITY_PROJECT_ID": SANITY_PROJECT_ID,
            "SANITY_DATASET": SANITY_DATASET,
            "SANITY_TOKEN": SANITY_TOKEN,
        }.items()
        if not value
    ]
    if _missing_sanity:
        raise ImproperlyConfigured(
            "STORE_BACKEND=sanity needs " + ", ".join(_missing_sanity) + " (see README: Sanity)."
        )
# A sanity bound on one cart line, far above any real order; larger asks are invalid input.
CART_MAX_LINE_QUANTITY = env_int("CART_MAX_LINE_QUANTITY", 10_000)

# --- Checkout and payments ------------------------------------------------------------
# How long stock is held for an unpaid order. Stripe Checkout accepts 30 minutes to 24 hours.
CHECKOUT_RESERVATION_MINUTES = env_int("CHECKOUT_RESERVATION_MINUTES", 30)
# Most units of one product one order may hold (Saleor's default), so no single shopper can
# hold a product's whole stock while paying.
CHECKOUT_MAX_UNITS_PER_PRODUCT = env_int("CHECKOUT_MAX_UNITS_PER_PRODUCT", 50)
if CHECKOUT_MAX_UNITS_PER_PRODUCT < 1:
    raise ImproperlyConfigured("CHECKOUT_MAX_UNITS_PER_PRODUCT must be at least 1.")
# The largest order total (paisa) that may be paid in cash on delivery; 0 turns it off.
COD_MAX_TOTAL_MINOR = env_int("COD_MAX_TOTAL_MINOR", 2_000_000)
if COD_MAX_TOTAL_MINOR < 0:
    raise ImproperlyConfigured("COD_MAX_TOTAL_MINOR must be 0 (off) or more.")
PAYMENT_GATEWAY = os.environ.get("PAYMENT_GATEWAY", "test")
if PAYMENT_GATEWAY not in {"test", "stripe"}:
    raise ImproperlyConfigured("PAYMENT_GATEWAY must be 'test' or 'stripe'")
# The test gateway marks orders paid for the public test card 4242 4242 4242 4242. Production
# refuses it unless a staging shop turns it on by name; `check --deploy` then fails (haat.E001).
ALLOW_TEST_PAYMENTS_IN_PRODUCTION = env_bool("ALLOW_TEST_PAYMENTS_IN_PRODUCTION", False)
if PRODUCTION and PAYMENT_GATEWAY == "test" and not ALLOW_TEST_PAYMENTS_IN_PRODUCTION:
    raise ImproperlyConfigured(
        "HAAT_ENV=production refuses the test payment gateway (it accepts the public test card "
        "4242 4242 4242 4242). Set PAYMENT_GATEWAY=stripe with STRIPE_SECRET_KEY and "
        "STRIPE_WEBHOOK_SECRET; a staging shop may set PAYMENT_GATEWAY=test and "
        "ALLOW_TEST_PAYMENTS_IN_PRODUCTION=true (manage.py check --deploy then fails)."
    )
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # only for a local stand-in in tests
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
if PAYMENT_GATEWAY == "stripe":
    if not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
        raise ImproperlyConfigured(
            "PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET."
        )
    if not 30 <= CHECKOUT_RESERVATION_MINUTES <= 24 * 60:
        raise ImproperlyConfigured(
            "With Stripe, CHECKOUT_RESERVATION_MINUTES must be from 30 to 1440."
        )
elif CHECKOUT_RESERVATION_MINUTES < 1:
    raise ImproperlyConfigured("CHECKOUT_RESERVATION_MINUTES must be at least 1.")
# The test gateway signs its events like Stripe does, with a secret derived from SECRET_KEY.
TEST_GATEWAY_WEBHOOK_SECRET = os.environ.get(
    "TEST_GATEWAY_WEBHOOK_SECRET",
    "whsec_test_" + hashlib.sha256(f"haat-test-gateway:{SECRET_KEY}".encode()).hexdigest()[:32],
)

# --- Background work (Celery; see README: Background work) ------------------------------
# With REDIS_URL, tasks go through Redis to `celery -A haat worker`, and `celery -A haat beat`
# sends the periodic jobs. Without it (`make run`), tasks run in the calling process and each
# serving process runs the periodic jobs itself (haat/ticker.py): nothing else to start.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"  # unused: tasks run eagerly
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# In-process, a failed task is logged, never raised into the request that queued it.
CELERY_TASK_EAGER_PROPAGATES = False
# A task is acknowledged when it has finished, so a worker killed mid-task has it redelivered.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Tasks end within the hard time limit and retry no later than 10 minutes ahead; a message
# unacknowledged for longer than the visibility timeout is handed out again.
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_EXPIRES = 24 * 60 * 60
# Nothing reads a task's result (each job's outcome is in the database and its log line). Kept,
# every task a web process sends would also subscribe to its result on Redis, and with Redis
# away that subscription is retried for 20 s inside the request before it fails.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs through LOGGING below
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
RESERVATION_SWEEP_SECONDS = env_int("RESERVATION_SWEEP_SECONDS", 60)
PAYMENT_RECONCILE_SECONDS = env_int("PAYMENT_RECONCILE_SECONDS", 60)
REFUND_RETRY_SECONDS = env_int("REFUND_RETRY_SECONDS", 300)
ORDER_MAIL_SWEEP_SECONDS = env_int("ORDER_MAIL_SWEEP_SECONDS", 300)
BACK_IN_STOCK_SWEEP_SECONDS = env_int("BACK_IN_STOCK_SWEEP_SECONDS", 300)
STORE_DELIVERY_SECONDS = env_int("STORE_DELIVERY_SECONDS", 30)
STORE_RECONCILE_SECONDS = env_int("STORE_RECONCILE_SECONDS", 3600)
_periods = [
    RESERVATION_SWEEP_SECONDS,
    PAYMENT_RECONCILE_SECONDS,
    REFUND_RETRY_SECONDS,
    ORDER_MAIL_SWEEP_SECONDS,
    BACK_IN_STOCK_SWEEP_SECONDS,
    STORE_DELIVERY_SECONDS,
    STORE_RECONCILE_SECONDS,
]
if min(_periods) < 1:
    raise ImproperlyConfigured("The periods of the background jobs must be at least 1 second.")
# The one schedule: beat sends it, the in-process ticker runs it. A job that finds nothing to
# do is a few queries; each message expires after one period so a stopped worker comes back
# to one run per job, not a backlog.
CELERY_BEAT_SCHEDULE = {
    name: {"task": task, "schedule": float(seconds), "options": {"expires": float(seconds)}}
    for name, task, seconds in [
        (
            "release-expired-reservations",
            "checkout.tasks.release_expired_reservations",
            RESERVATION_SWEEP_SECONDS,
        ),
        (
            "reconcile-payment-sessions",
            "checkout.tasks.reconcile_payment_sessions",
            PAYMENT_RECONCILE_SECONDS,
        ),
        ("retry-due-refunds", "checkout.tasks.retry_due_refunds", REFUND_RETRY_SECONDS),
        ("send-due-order-mails", "orders.tasks.send_due_order_mails", ORDER_MAIL_SWEEP_SECONDS),
        (
            "send-due-back-in-stock-alerts",
            "wishlist.tasks.send_due_back_in_stock_alerts",
            BACK_IN_STOCK_SWEEP_SECONDS,
        ),
        # With the Sanity store: retry undelivered catalogue changes, and compare both sides.
        ("deliver-store-changes", "catalog.tasks.deliver_store_changes", STORE_DELIVERY_SECONDS),
        ("reconcile-store", "catalog.tasks.reconcile_store", STORE_RECONCILE_SECONDS),
    ]
}
# Runs the schedule inside each serving process when there is no broker (see haat/ticker.py).
EMBEDDED_TICKER = env_bool("HAAT_EMBEDDED_TICKER", not REDIS_URL)
# An expired reservation is cancelled only once the gateway confirms its session was not paid.
# If the gateway cannot be reached, the stock stays held at most this long past the expiry;
# then it is released and the order is still checked with the gateway (paid → sold if the stock
# is still there, else refunded) for PAYMENT_RECONCILE_HOURS after it was placed.
RESERVATION_GATEWAY_GRACE_MINUTES = env_int("RESERVATION_GATEWAY_GRACE_MINUTES", 15)
PAYMENT_RECONCILE_HOURS = env_int("PAYMENT_RECONCILE_HOURS", 48)
ORDER_MAIL_MAX_ATTEMPTS = env_int("ORDER_MAIL_MAX_ATTEMPTS", 8)
# A mail claimed this long ago and still not marked sent is taken to be from a sender that died
# (a killed worker) and is sent again. It must exceed what one live send can take (the SMTP
# timeout is 15 s per step); the default also exceeds a task's hard time limit (300 s).
ORDER_MAIL_CLAIM_LEASE_SECONDS = env_int("ORDER_MAIL_CLAIM_LEASE_SECONDS", 600)
if ORDER_MAIL_CLAIM_LEASE_SECONDS < 30:
    raise ImproperlyConfigured("ORDER_MAIL_CLAIM_LEASE_SECONDS must be at least 30.")
# The shop's public address, for links in e-mails. Production derives it from the first
# CSRF_TRUSTED_ORIGINS entry, else the first ALLOWED_HOSTS name over HTTPS.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
if not SITE_URL and PRODUCTION:
    _hosts = [host for host in ALLOWED_HOSTS if host and host[0] not in "*."]
    if CSRF_TRUSTED_ORIGINS:
        SITE_URL = CSRF_TRUSTED_ORIGINS[0].rstrip("/")
    elif _hosts:
        SITE_URL = f"https://{_hosts[0]}"
elif not SITE_URL:
    SITE_URL = "http://127.0.0.1:8000"

# --- Security (production) ----------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", [])

# --- Operations ---------------------------------------------------------------------------
# See README: Operations. /healthz, /readyz and /metrics are answered first, ahead of the host
# check and the HTTPS redirect; every request gets an id (X-Request-ID) and one access log line.
INSTALLED_APPS.append("django_prometheus")
MIDDLEWARE = [
    "haat.middleware.RequestIdMiddleware",
    "haat.middleware.OperationsMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "haat.middleware.StoreBusyMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# REDIS_URL (see the cache block above) is shared with the cache and rate limits: /readyz pings it.
# /metrics: who may read it. Networks of the scraper; behind a proxy also the proxy's own
# networks in METRICS_TRUSTED_PROXIES (only then is X-Forwarded-For believed); a token, if set,
# is required as well ("Authorization: Bearer <token>").
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", ["127.0.0.1/32", "::1/128"])
METRICS_TRUSTED_PROXIES = env_list("METRICS_TRUSTED_PROXIES", [])
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
for _name, _networks in (
    ("METRICS_ALLOWED_NETWORKS", METRICS_ALLOWED_NETWORKS),
    ("METRICS_TRUSTED_PROXIES", METRICS_TRUSTED_PROXIES),
):
    for _network in _networks:
        try:
            ipaddress.ip_network(_network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{_name}: {_network!r} is not a network (e.g. 10.0.0.0/8 or ::1/128)"
            ) from None
# Several worker processes each count on their own: in multiprocess mode they write to files
# in this directory and /metrics adds them up. prometheus_client reads the variable when it is
# first imported, which is after the settings.
PROMETHEUS_MULTIPROC_DIR = os.environ.get(
    "PROMETHEUS_MULTIPROC_DIR", str(DATA_DIR / "prometheus") if PRODUCTION else ""
)
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR
PROMETHEUS_EXPORT_MIGRATIONS = False  # /readyz checks migrations
# JSON lines for log collectors in production, readable text on a developer's terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'text'")
# --- Content Security Policy (development and production) -------------------------------
# Scripts only from this site or with the page's nonce; nothing inline, no plugins, no framing.
# A form posting to /checkout/ is redirected to Stripe Checkout: browsers apply form-action to
# that redirect. Clerk's pages widen this for ClerkJS (accounts.clerk.content_security_policy).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [
        CSP.SELF,
        *(["https://checkout.stripe.com"] if PAYMENT_GATEWAY == "stripe" else []),
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # On the handler, so records from every logger carry the request id.
    "filters": {"request_id": {"()": "haat.request_id.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own "django" logger would print every line twice next to the root handler.
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # Refusals (404, 409) are answers, not incidents: log only server errors.
        "django.request": {"level": "ERROR"},
        "httpx": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
        # Failed sign-ins and lockouts are warnings; axes' step-by-step notes are not needed.
        "axes": {"level": "WARNING"},
    },
}

# --- Cluster ------------------------------------------------------------------------------
# The name of this app node behind a load balancer (e.g. "node2"), sent back as X-Haat-Node so
# one can see which node answered. Empty (the default): no header. `make cluster` sets it.
HAAT_NODE_NAME = os.environ.get("HAAT_NODE_NAME", "")
if HAAT_NODE_NAME:
    _NODE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    if len(HAAT_NODE_NAME) > 64 or not set(HAAT_NODE_NAME) <= _NODE_NAME_CHARS:
        raise ImproperlyConfigured(
            "HAAT_NODE_NAME must be 1-64 letters, digits, '.', '_' or '-' (it goes into a header)"
        )
    # First, so that every answer carries it, redirects and errors of later middleware included.
    MIDDLEWARE.insert(0, "haat.node.NodeNameMiddleware")
