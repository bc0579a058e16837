"""One settings module, configured from the environment (12-factor).

Run mode is chosen by the environment (DESIGN.md "Run modes"):
- embedded (default): SQLite in WAL mode, Celery over kombu's SQLAlchemy transport on a
  SQLite file, in-memory channel layer, local-memory cache.
- full: ``DATABASE_URL`` points at PostgreSQL and ``REDIS_URL`` at Redis.
Every variable read here is listed in README.md.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HELPDESK_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """Read SECRET_KEY from the environment; in development persist a generated one in var/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


# --- core -----------------------------------------------------------------------------
SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
# Tenants live on sub-domains of BASE_DOMAIN (acme.localhost in development) or on custom
# domains stored in the database, so the host check happens in TenantMiddleware, which
# answers 404 for hosts that are neither a tenant nor one of PLATFORM_HOSTS.
BASE_DOMAIN = os.environ.get("BASE_DOMAIN", "localhost").lower()
PLATFORM_HOSTS = env_list("PLATFORM_HOSTS", f"localhost,127.0.0.1,[::1],testserver,{BASE_DOMAIN}")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "*")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
PUBLIC_SCHEME = os.environ.get("PUBLIC_SCHEME", "http")
PUBLIC_PORT = os.environ.get("PUBLIC_PORT", "")

INSTALLED_APPS = [
    "daphne",
    "helpdesk.tenancy",
    "helpdesk.people",
    "helpdesk.calendars",
    "helpdesk.audit",
    "helpdesk.events",
    "helpdesk.api",
    "helpdesk.console",
    "tickets",
    "knowledge",
    "channels_hub",
    "quality",
    # The admin site is helpdesk.tenancy.admin_base.HelpdeskAdminSite (tenant-scoped).
    "helpdesk.tenancy.admin_apps.HelpdeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "helpdesk.tenancy.middleware.TenantMiddleware",
    "helpdesk.console.middleware.UserLocaleMiddleware",
    "helpdesk.console.middleware.UserTimezoneMiddleware",
    "helpdesk.api.middleware.ApiMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"
AUTH_USER_MODEL = "people.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "helpdesk.console.context_processors.console",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'helpdesk.sqlite3'}"  # empty: embedded
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")))
if _db["ENGINE"] == "django.db.backends.postgresql":
    # Our backend adds row-level security: the tenant is set per transaction (SET LOCAL).
    _db["ENGINE"] = "helpdesk.db.postgresql"
    # One transaction per view: the tenant's SET LOCAL is sent once, not around every query
    # (an autocommit query costs four round trips under row-level security: BEGIN,
    # set_config, the query, COMMIT). A failed request (DRF errors too) changes nothing.
    # Not on SQLite, whose IMMEDIATE transactions would serialize every request.
    _db["ATOMIC_REQUESTS"] = os.environ.get("DB_ATOMIC_REQUESTS", "true").lower() not in ("0", "false", "no")
    # Parameters bound by the server, and a statement a connection has run five times is
    # prepared: PostgreSQL parses and plans it once per connection. Django turns psycopg's
    # preparing off unless ``prepare_threshold`` is given, so both are set (with binding
    # alone nothing was prepared; bench/email_ingest.py: PostgreSQL's CPU per mail 11.7 ->
    # 8.1 ms, its planning 2.6 -> 0.3 ms). Off behind a pooler that cannot keep prepared
    # statements (PgBouncer in transaction mode before 1.21).
    if env_bool("DB_SERVER_SIDE_BINDING", True):
        _db.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    _db.setdefault("TEST", {})
    if os.environ.get("TEST_DATABASE_NAME"):
        _db["TEST"]["NAME"] = os.environ["TEST_DATABASE_NAME"]
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
DATABASES = {"default": _db}
IS_POSTGRES = _db["ENGINE"] == "helpdesk.db.postgresql"

# --- cache, Celery, channels ------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "helpdesk.cache.RedisCache",  # Django's, with its Redis client reused
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "helpdesk"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("CHANNELS_PREFIX", "asgi")},
        }
    }
    _default_broker = REDIS_URL
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache"
            if env_bool("EMBEDDED_SHARED_CACHE", True)
            else "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Not the filesystem transport: a worker running beat read a half-written message and died.
    _default_broker = f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", _default_broker)
if CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "helpdesk.celery_redis:Transport"  # kombu's, one client reused
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {
    "events-redispatch": {"task": "events.redispatch_pending", "schedule": 60.0},
    "webhooks-retry-due": {"task": "events.retry_due_webhooks", "schedule": 30.0},
    "tickets-close-solved": {"task": "tickets.close_solved", "schedule": 900.0},
    "tickets-sla-sweep": {"task": "tickets.sla_sweep", "schedule": 60.0},
    "automations-hourly": {"task": "automations.run_all", "schedule": 3600.0},
    "email-send-due": {"task": "email.send_due", "schedule": 30.0},
    "kb-publish-due": {"task": "kb.publish_due", "schedule": 60.0},
    # Content gaps read the searches since their last refresh; the content-health notice goes
    # to each article owner once a week (later runs of the week find them told).
    "kb-gaps-refresh": {"task": "kb.gaps_refresh_all", "schedule": 900.0},
    "kb-content-health": {"task": "kb.content_health_notify", "schedule": 21600.0},
    "email-process-stuck": {"task": "email.process_stuck", "schedule": 60.0},
    "connector-send-due": {"task": "connector.send_due", "schedule": 30.0},
    "connector-process-stuck": {"task": "connector.process_stuck", "schedule": 60.0},
    "email-poll-due": {"task": "email.poll_due", "schedule": 30.0},
}

# --- email ----------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    # Embedded mode without SMTP: mail is written to var/mail so password-reset links can be read.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Helpdesk <helpdesk@localhost>")
# Inbound mail larger than this is refused (413 on the hook, an error for pipes and IMAP).
EMAIL_INBOUND_MAX_BYTES = int(os.environ.get("EMAIL_INBOUND_MAX_BYTES", str(40 * 1024 * 1024)))

# --- security -------------------------------------------------------------------------
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_DOMAIN = os.environ.get("SESSION_COOKIE_DOMAIN") or None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY") else None
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"
PASSWORD_RESET_TIMEOUT = 3600 * 24
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Outbound webhooks refuse private, loopback and link-local targets unless this is on.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_BACKOFF_BASE_SECONDS = float(os.environ.get("WEBHOOK_BACKOFF_BASE_SECONDS", "30"))
# Customer data integrations (the requester card's shop/CRM panel): the same SSRF guard.
INTEGRATIONS_ALLOW_PRIVATE = env_bool("INTEGRATIONS_ALLOW_PRIVATE", False)

# --- i18n / time ----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("tr", _("Turkish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "helpdesk_language"
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- static / media -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
                    if env_bool("STATIC_COMPRESS", False)
                    else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- tickets --------------------------------------------------------------------------
# Attachments: the largest file, files per message, allowed MIME types (empty: any type not
# denied; "image/*" allows a family) and refused file extensions (comma-separated).
TICKET_ATTACHMENT_MAX_BYTES = int(os.environ.get("TICKET_ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
TICKET_ATTACHMENT_MAX_PER_MESSAGE = int(os.environ.get("TICKET_ATTACHMENT_MAX_PER_MESSAGE", "20"))
TICKET_ATTACHMENT_ALLOWED_TYPES = env_list("TICKET_ATTACHMENT_ALLOWED_TYPES", "")
TICKET_ATTACHMENT_DENIED_EXTENSIONS = env_list(
    "TICKET_ATTACHMENT_DENIED_EXTENSIONS",
    "exe,com,bat,cmd,msi,msp,scr,pif,cpl,dll,sys,vbs,vbe,js,jse,wsf,wsh,ps1,psm1,hta,jar,lnk,reg,app,apk,"
    "dmg,pkg,deb,rpm,sh,iso,gadget,appx,msix",
)

# --- help center ----------------------------------------------------------------------
# The largest file or image an editor may attach to an article.
KB_ATTACHMENT_MAX_BYTES = int(os.environ.get("KB_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))

# --- API ------------------------------------------------------------------------------
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/min")
API_IDEMPOTENCY_TTL_SECONDS = int(os.environ.get("API_IDEMPOTENCY_TTL_SECONDS", str(24 * 3600)))
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "helpdesk.api.authentication.ApiKeyAuthentication",
        "helpdesk.api.authentication.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["helpdesk.api.permissions.HasTenantScope"],
    "DEFAULT_PAGINATION_CLASS": "helpdesk.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["helpdesk.api.throttles.ApiKeyRateThrottle"],
    "EXCEPTION_HANDLER": "helpdesk.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["helpdesk.api.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": "Multi-tenant customer-service API. Authenticate with `Authorization: Bearer <api key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # No call to the online validator: the docs page uses local assets only.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Several models have a "kind" choice field: name the shared ones.
    "ENUM_NAME_OVERRIDES": {
        "NotificationKindEnum": "tickets.models.automation.NotificationKind",
        "LinkKindEnum": "tickets.models.ticket.LinkKind",
        "SideConversationKindEnum": "tickets.models.ticket.SideConversationKind",
        "CustomFieldKindEnum": "tickets.models.ticket.CustomFieldKind",
        "MessageKindEnum": "tickets.models.ticket.MessageKind",
        "ViaEnum": "tickets.models.ticket.Via",
        "AuthorKindEnum": ["agent", "customer", "system"],
        "IdentityKindEnum": "helpdesk.people.models.IdentityKind",
        "ImportKindEnum": "helpdesk.people.models.ImportKind",
        "ContactImportKindEnum": ["contacts", "organizations"],
        "ImportStatusEnum": "helpdesk.people.models.ImportStatus",
        "ChannelKindEnum": "channels_hub.models.ChannelKind",
        "MailSecurityEnum": "channels_hub.models.MailSecurity",
        "TranslationStatusEnum": "knowledge.models.content.TranslationStatus",
        "TranslationInputStatusEnum": ["draft", "review", "published"],
        "GapStatusEnum": "knowledge.models.gaps.GapStatus",
        "LocationKindEnum": "knowledge.models.locations.LocationKind",
        "VisibilityEnum": "knowledge.models.content.Visibility",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "helpdesk.api.schema.postprocess_api_conventions",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # tnefparse says "Skipping checksum for performance" at INFO for every winmail.dat.
    "loggers": {"django.db.backends": {"level": "INFO"}, "tnefparse": {"level": "WARNING"}},
}
