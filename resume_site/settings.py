"""One settings file, driven by environment variables.

Locally everything has a default that works with `make run`. With DJANGO_ENV=production the
settings refuse to load unless the variables production needs are set, and name the one missing.
Nothing here touches the network: the DynamoDB models read these values when first used.

Over 400 lines because the project keeps one env-driven settings file:
every variable the site reads, its default and its production check in one place a newcomer
opens first; splitting it by topic would scatter what `DJANGO_ENV=production` requires.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

DJANGO_ENV = os.environ.get("DJANGO_ENV", "local").strip().lower()
if DJANGO_ENV not in {"local", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be 'local' or 'production', got {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"


def _env(name: str, default: str | None = None) -> str:
    """A variable's value; in production a variable without a default must be set."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if default is None:
        raise ImproperlyConfigured(
            f"The {name} environment variable is required when DJANGO_ENV=production."
        )
    return default


def _env_list(name: str, default: str | None = None) -> list[str]:
    return [part.strip() for part in _env(name, default).split(",") if part.strip()]


def _env_float(name: str, default: str) -> float:
    raw = _env(name, default)
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None


def _env_int(name: str, default: str, minimum: int = 0) -> int:
    raw = _env(name, default)
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def _env_site_url(name: str) -> str:
    """The site's public origin (scheme and host, no path), without a trailing slash."""
    raw = _env(name, None if PRODUCTION else "")
    if not raw:
        return ""
    parts = urlsplit(raw)
    schemes = {"https"} if PRODUCTION else {"http", "https"}
    if parts.scheme not in schemes or not parts.hostname or parts.path not in {"", "/"}:
        raise ImproperlyConfigured(
            f"{name} must be the site's address like https://resume.example.com "
            f"({' or '.join(sorted(schemes))}, no path), got {raw!r}"
        )
    if parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must not have a query or fragment, got {raw!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _env_bool(name: str, default: str) -> bool:
    raw = _env(name, default).lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


# --- Core -----------------------------------------------------------------------------------
# The local key is public on purpose: it signs nothing that matters on a developer's machine.
SECRET_KEY = _env("SECRET_KEY", None if PRODUCTION else "local-development-key-not-secret")
if PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production.")
# Off locally too unless asked for (DJANGO_DEBUG=true): a missing page shows the site's own 404
# page, as in production, not Django's debug page; a failing one is logged with its traceback
# in the terminal either way. `make run` serves the static files itself (runserver --insecure).
DEBUG = False if PRODUCTION else _env_bool("DJANGO_DEBUG", "false")

# --- The public address: one setting for the domain -----------------------------------------
# The site's canonical origin, like https://resume.example.com (the owner's domain on the
# CloudFront distribution, or its cloudfront.net name). It drives the page's canonical URL (also
# in its OpenGraph tags and JSON-LD), the hosts Django answers, the origins CSRF trusts and the
# counter's own origin, and it is the host every request that came through the distribution is
# answered as (core/edge.py). Locally it may stay unset: the page then names the address
# the request came to.
SITE_URL = _env_site_url("SITE_URL")
SITE_HOST = urlsplit(SITE_URL).netloc if SITE_URL else ""
AWS_REGION = _env("AWS_REGION", "us-east-1")
# The hosts Django answers: SITE_URL's, and in production API Gateway's own names in the region
# (CloudFront sends the origin's host, and the edge middleware then answers as SITE_URL's
# host); ALLOWED_HOSTS adds more, comma-separated. Never `*`.
ALLOWED_HOSTS = list(
    dict.fromkeys(
        ([SITE_HOST] if SITE_HOST else [])
        + ([f".execute-api.{AWS_REGION}.amazonaws.com"] if PRODUCTION else [])
        + _env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost")
    )
)
if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must not hold '*': name the hosts.")

INSTALLED_APPS = [
    "owners.apps.OwnerAdminConfig",  # django.contrib.admin with the owner's dashboard site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "owners.apps.OwnerStaticFilesConfig",  # django.contrib.staticfiles, less the admin's vendor
    "core.apps.CoreConfig",
    "resume.apps.ResumeConfig",
    "counter.apps.CounterConfig",
    "owners.apps.OwnersConfig",  # after auth: it unhooks auth's ORM last-login update
]

MIDDLEWARE = [
    "core.edge.EdgeOriginMiddleware",  # first: it sets the host and path all others see
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "resume_site.middleware.PermissionsPolicyMiddleware",
    "core.budget.DynamoDBBudgetMiddleware",
    # Before the session, CSRF and messages middleware: it takes their cookies and Vary: Cookie
    # off every answer marked public (the page, robots.txt, /favicon.ico, the 404 page).
    "resume_site.middleware.SharedAnswerMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "resume_site.urls"
WSGI_APPLICATION = "resume_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",  # the nonce the admin's tags print
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The owner's name in the admin's header and titles: the resume's (owners never imports resume).
OWNER_NAME = "resume.resume.owner_name"

# There is no SQL database (docs/architecture.md, Decisions): the owner's accounts are DynamoDB
# items and sessions are signed cookies. The dummy backend makes any ORM query fail loudly.
DATABASES: dict[str, dict[str, str]] = {}

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- Owner accounts, sessions, messages: all without a database -----------------------------
# Accounts are DynamoDB items; the user object is rebuilt from the item on each request.
AUTH_USER_MODEL = "owners.Owner"
AUTHENTICATION_BACKENDS = ["owners.auth.DynamoDBBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working day
CSRF_COOKIE_HTTPONLY = True
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
LOGIN_URL = "admin:login"
# Where sign-in lands when `next` is missing or unsafe (another host): the dashboard, not
# Django's default /accounts/profile/, which the site does not have.
LOGIN_REDIRECT_URL = "admin:index"
# Failed sign-ins before a pause, in a sliding window: per (username, client IP) pair and per
# client IP, never per username alone (README, Owner accounts).
LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", "5", minimum=1)
LOGIN_MAX_CLIENT_FAILURES = _env_int("LOGIN_MAX_CLIENT_FAILURES", "20", minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = _env_int("LOGIN_FAILURE_WINDOW_SECONDS", "900", minimum=60)

# --- Static files ---------------------------------------------------------------------------
# Locally and in tests: served from STATICFILES_DIRS and the apps by runserver, as usual.
# With STATIC_BUCKET set (production): hashed files in that private S3 bucket, served by
# CloudFront at STATIC_DOMAIN, cached for a year. The manifest that maps names to hashed names
# is a local file shipped inside the Lambda package (STATIC_MANIFEST_DIR), never read from S3:
# rendering needs no network and no S3 permission, and each package renders exactly the hashed
# names it was built with (see resume_site/storage.py and deploy/static_files.py).
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_MANIFEST_DIR = Path(
    _env("STATIC_MANIFEST_DIR", str(BASE_DIR / "resume_site" / "static_manifest"))
)
STATIC_BUCKET = os.environ.get("STATIC_BUCKET", "").strip()
if STATIC_BUCKET:
    STATIC_DOMAIN = os.environ.get("STATIC_DOMAIN", "").strip().strip("/")
    if not STATIC_DOMAIN or "/" in STATIC_DOMAIN or ":" in STATIC_DOMAIN:
        raise ImproperlyConfigured(
            "STATIC_DOMAIN must be the CloudFront domain (like d111111abcdef8.cloudfront.net) "
            f"when STATIC_BUCKET is set, got {STATIC_DOMAIN!r}"
        )
    STATIC_URL = f"https://{STATIC_DOMAIN}/static/"
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "resume_site.storage.CloudFrontManifestStorage",
            "OPTIONS": {
                "bucket_name": STATIC_BUCKET,
                "custom_domain": STATIC_DOMAIN,
                "location": "static",
                "region_name": _env("AWS_REGION", "us-east-1"),
                "default_acl": None,  # private bucket: CloudFront reads it through OAC
                "querystring_auth": False,
                "manifest_dir": STATIC_MANIFEST_DIR,
            },
        },
    }

# --- The resume -----------------------------------------------------------------------------
RESUME_PATH = Path(_env("RESUME_PATH", str(BASE_DIR / "resume" / "data" / "resume.json")))
RESUME_VALIDATE_ON_STARTUP = _env_bool("RESUME_VALIDATE_ON_STARTUP", "true")

# --- DynamoDB -------------------------------------------------------------------------------
DYNAMODB_TABLE = _env("DYNAMODB_TABLE", None if PRODUCTION else "resume-site-local")


def _engine_recorded(record: Path) -> str | None:
    """The address in `make run`'s record of its engine (scripts/run_local.py writes the
    address, then the engine's process id) while that process runs; None without a record, or
    with a stale one (a `make run` killed with SIGKILL leaves it behind). Asks the process table
    only (signal 0), never the network."""
    try:
        url, pid_text = record.read_text().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except PermissionError:
        pass  # it exists, as another user's
    except (OSError, OverflowError):
        return None
    try:  # Linux: an engine that ended but is not reaped yet (a zombie) exists, and is stale
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return url  # no /proc (macOS): signal 0 said it runs
    return None if state == "Z" else url


# Empty means the real AWS endpoint for AWS_REGION; locally it is DynamoDB Local: when unset, the
# engine a running `make run` recorded in <data folder>/endpoint (scripts/run_local.py), so
# createadmin finds it whatever its port, else port 8001 (also when the record is stale).
if "DYNAMODB_ENDPOINT_URL" in os.environ or PRODUCTION:
    DYNAMODB_ENDPOINT_URL = os.environ.get("DYNAMODB_ENDPOINT_URL", "").strip()
else:
    _record = BASE_DIR / os.environ.get("DYNAMODB_LOCAL_DATA", ".dynamodb") / "endpoint"
    DYNAMODB_ENDPOINT_URL = _engine_recorded(_record) or "http://127.0.0.1:8001"
# Fail fast: with DynamoDB slow or down the API answers 503 within about a second (the page never
# waits on it). PynamoDB's defaults (15 s connect, 30 s read, 3 retries) would hang a request.
DYNAMODB_CONNECT_TIMEOUT = _env_float("DYNAMODB_CONNECT_TIMEOUT", "1.0")
DYNAMODB_READ_TIMEOUT = _env_float("DYNAMODB_READ_TIMEOUT", "1.0")
# One time budget per request for waiting on all its DynamoDB calls together, in seconds: each
# call waits at most the time left (the read timeout above bounds calls outside a request), and
# none is sent once it is spent (core/budget.py).
# The API answers within about a second, the owner's admin pages (whose own work, hashing a
# password, takes a few tenths more) within three, however late each answer.
DYNAMODB_API_BUDGET = _env_float("DYNAMODB_API_BUDGET", "1.0")
DYNAMODB_ADMIN_BUDGET = _env_float("DYNAMODB_ADMIN_BUDGET", "2.0")
# How many times a request DynamoDB certainly did not apply (throttled, connection refused) is
# sent again; a request that may have been applied (a timeout) is never sent again
# (core/failures.py).
DYNAMODB_MAX_RETRIES = _env_int("DYNAMODB_MAX_RETRIES", "1")
if DYNAMODB_MAX_RETRIES > 2:
    raise ImproperlyConfigured(
        "DYNAMODB_MAX_RETRIES must be 0, 1 or 2: every retry adds a wait to a failing request."
    )
# Views counted per minute for one visitor (the day's hash of IP and user agent) and for one
# client IP (offices share one); 0 switches a limit off. Past ten times a limit the API
# answers 429 (docs/architecture.md, Data model: Limits).
COUNTER_VISITOR_LIMIT = _env_int("COUNTER_VISITOR_LIMIT", "5")
COUNTER_CLIENT_LIMIT = _env_int("COUNTER_CLIENT_LIMIT", "60")


def _origin(value: str) -> str:
    """`scheme://host[:port]` as a browser sends it in `Origin`, or ImproperlyConfigured."""
    parts = urlsplit(value.lower().rstrip("/"))
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        parts = parts._replace(netloc="")
    extra = parts.path or parts.query or parts.fragment or "@" in parts.netloc
    host = re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)*|[0-9a-f:.]+", parts.hostname or "")
    if parts.scheme not in {"http", "https"} or not host or extra:
        raise ImproperlyConfigured(
            "COUNTER_ALLOWED_ORIGINS takes origins such as https://example.com or "
            f"http://localhost:8080 (no path, no wildcard), got {value!r}"
        )
    netloc = parts.netloc
    if (parts.scheme, parts.port) in {("http", 80), ("https", 443)}:
        netloc = netloc.rsplit(":", 1)[0]  # browsers leave the default port out of Origin
    return f"{parts.scheme}://{netloc}"


# Other sites' pages that may call the counter API from a browser (CORS), comma-separated. The
# site's own origin is always allowed and needs no entry (docs/architecture.md, "Request flow").
COUNTER_ALLOWED_ORIGINS = [_origin(value) for value in _env_list("COUNTER_ALLOWED_ORIGINS", "")]
# The links whose clicks the counter counts (POST /api/click): a function giving label -> name.
# The project wires the two apps here, as the counter never imports the resume app; the labels
# are the resume's own links (resume/links.py), so a click can name nothing else.
COUNTER_CLICK_LINKS = "resume.links.link_labels_get"

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (Django's own middleware): everything is denied unless listed. Scripts
# and styles come only from the static files (CloudFront in production), never inline; what
# must be inline carries the per-request nonce (the admin's templates print it). The resume page
# prints no nonce, so its header stays the same for every visitor and the page can be cached.
_STATIC_SOURCE = f"https://{STATIC_DOMAIN}" if STATIC_BUCKET else CSP.SELF
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [_STATIC_SOURCE, CSP.NONCE],
    "style-src": [_STATIC_SOURCE, CSP.NONCE],
    "img-src": list(dict.fromkeys([CSP.SELF, _STATIC_SOURCE])),
    "connect-src": [CSP.SELF],  # the visitor counter's fetch()
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
}
# Permissions-Policy (resume_site/middleware.py): the powerful features the site never uses,
# turned off for the page and anything it could embed. Only names Chromium recognises: it logs
# an error for an unknown one.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
if PRODUCTION:
    # API Gateway and CloudFront terminate TLS and say so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", "31536000")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", "true")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The site's own origin; CSRF_TRUSTED_ORIGINS adds more (full origins, comma-separated).
    CSRF_TRUSTED_ORIGINS = list(dict.fromkeys([SITE_URL, *_env_list("CSRF_TRUSTED_ORIGINS", "")]))

# --- The edge: the site's CloudFront distribution in front of API Gateway -------------------
# The value(s) of the secret header the distribution adds to every request it sends to API
# Gateway (docs/deploy.md, "The origin secret"). When set, /api/ and /admin/ answer only requests
# that carry one of them (403 otherwise), and only such requests are believed about the
# viewer's address and country (core/edge.py, core/clients.py). Two values,
# comma-separated, during a rotation: the new one first. Unset (locally, or a stage served by
# API Gateway alone) nothing is refused and the client is API Gateway's source IP.
EDGE_ORIGIN_SECRETS = _env_list("EDGE_ORIGIN_SECRET", "")
if len(EDGE_ORIGIN_SECRETS) > 2:
    raise ImproperlyConfigured(
        "EDGE_ORIGIN_SECRET holds one value, or two (new,old) during a rotation."
    )
if PRODUCTION and any(len(value) < 32 for value in EDGE_ORIGIN_SECRETS):
    raise ImproperlyConfigured("EDGE_ORIGIN_SECRET values must be at least 32 characters.")
# Cache-Control of the answers the distribution caches (the page, robots.txt, /favicon.ico):
# the edge keeps them for a day (every deploy invalidates them), browsers for five minutes.
EDGE_CACHE_SECONDS = _env_int("EDGE_CACHE_SECONDS", "86400")
BROWSER_CACHE_SECONDS = _env_int("BROWSER_CACHE_SECONDS", "300")
# The 404 page (resume.views.not_found) is the same for every viewer too, but no deploy
# invalidates it: the edge keeps it five minutes (public, max-age=BROWSER_CACHE_SECONDS,
# s-maxage=300), so a path that starts to exist is found within minutes.
EDGE_NOT_FOUND_SECONDS = 300

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(levelname)s %(name)s %(message)s"},
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "server": {"class": "logging.StreamHandler", "formatter": "server"},
    },
    "loggers": {
        "pynamodb": {"level": "WARNING"},
        # Without Django's own console handler, which printed each django.* line a second time
        # beside the root's; runserver's request lines keep their handler (Django's default).
        "django": {"handlers": []},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
    },
    "root": {
        "handlers": ["console"],
        "level": _env("DJANGO_LOG_LEVEL", "WARNING" if PRODUCTION else "INFO"),
    },
}
