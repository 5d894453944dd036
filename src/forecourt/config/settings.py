"""The one settings module: every deployment difference comes from environment variables."""

import base64
import hashlib
from pathlib import Path

import dj_database_url

from forecourt.config.env import ConfigurationError, env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(env_str("FORECOURT_VAR_DIR", str(REPO_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Demo mode is switched on by `forecourt demo` only: it exposes the SMS outbox and allows generated keys.
DEMO_MODE = env_bool("FORECOURT_DEMO", False)
DEBUG = env_bool("DJANGO_DEBUG", False)

_DEV_SECRET = "forecourt-development-only-secret-key-never-use-in-production-0123456789"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEMO_MODE or DEBUG or env_bool("FORECOURT_ALLOW_DEV_KEYS", False)):
        raise ConfigurationError(
            "DJANGO_SECRET_KEY is not set. Set it, or run `forecourt demo` for the embedded demo set-up."
        )
    SECRET_KEY = _DEV_SECRET


def _derived_key(purpose: str) -> str:
    """A development key derived from SECRET_KEY; production sets each key explicitly."""
    digest = hashlib.sha256(f"{purpose}:{SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


# Keyed hash for looking a phone number up, and a Fernet key for storing it (PIPL: no plain column).
PHONE_HASH_KEY = env_str("FORECOURT_PHONE_HASH_KEY", "") or _derived_key("phone-hash")
PHONE_ENCRYPTION_KEYS = env_list("FORECOURT_PHONE_ENCRYPTION_KEYS", []) or [_derived_key("phone-encryption")]
# Signs the QR payloads (vouchers, appointments) so a forged code is flagged before the server answers.
QR_SIGNING_KEY = env_str("FORECOURT_QR_SIGNING_KEY", "") or _derived_key("qr-signing")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks_db",
    "forecourt.core",
    "forecourt.accounts",
    "forecourt.catalog",
    "forecourt.dealers",
    "forecourt.appointments",
    "forecourt.leads",
    "forecourt.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "forecourt.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "forecourt.config.urls"
WSGI_APPLICATION = "forecourt.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "forecourt.web.context_processors.site",
                # Last, so it overrides the built-in CSRF processor while a cached page renders.
                "forecourt.core.pagecache.csrf_placeholder",
            ],
        },
    },
]

SQLITE_PATH = VAR_DIR / "forecourt.sqlite3"
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{SQLITE_PATH}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the writer; IMMEDIATE makes each transaction take the write lock
        # up front so concurrent writers queue behind the busy timeout instead of failing on upgrade.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "web:home"
# Where each role lands after signing in when no page was asked for (URL names; accounts cannot import them).
ROLE_HOME_URLS = {
    "dealer_manager": "leads:workspace-inbox",
    "sales_advisor": "leads:workspace-inbox",
    "service_advisor": "appointments:workspace-day",
    "ops": "admin:index",
}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# Apps keep their own catalogues in <app>/locale; config has no app, so its strings live here.
LOCALE_PATHS = [PACKAGE_DIR / "config" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end packages come from the npm registry into node_modules at set-up; nothing is committed.
NODE_MODULES = REPO_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/pico", NODE_MODULES / "@picocss" / "pico" / "css"),
    ("vendor/jsqr", NODE_MODULES / "jsqr" / "dist"),
]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "media"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
# Templates of higher layers shown on the catalogue's model page (the catalogue cannot name them itself).
MODEL_PAGE_INCLUDES = ["leads/_inquiry_form.html"]

# Anonymous pages with nothing personal (home, model pages) are rendered once per this many seconds.
PAGE_CACHE_SECONDS = env_int("FORECOURT_PAGE_CACHE_SECONDS", 5)
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)

TASKS = {
    "default": {
        "BACKEND": env_str("FORECOURT_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Messages to people (SMS now; WeChat templates and email later) go through one sender interface.
SMS_SENDER = env_str("FORECOURT_SMS_SENDER", "forecourt.accounts.sms.OutboxSender")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("FORECOURT_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "forecourt_cache",
    }
}

LOG_LEVEL = env_str("FORECOURT_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "forecourt.core.logging.RedactPersonalDataFilter"}},
    "formatters": {"json": {"()": "forecourt.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
    },
}
