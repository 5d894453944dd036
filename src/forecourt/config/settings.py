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
    "forecourt.payments",
    "forecourt.offers",
    "forecourt.orders",
    "forecourt.loyalty",
    "forecourt.referrals",
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
    "forecourt.core.middleware.NulCharacterGuardMiddleware",
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
    "partner": "offers-workspace:write-off",
    "broker": "referrals:dashboard",
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
# The same for the saved-configuration page; each gets `configuration`.
CONFIGURATION_PAGE_INCLUDES = ["orders/_order_button.html"]
# And for the home page, below the models (teasers of what is on sale now).
HOME_PAGE_INCLUDES = ["orders/_edition_teaser.html", "offers/_campaign_teaser.html"]

# Anonymous pages with nothing personal (home, model pages) are rendered once per this many seconds.
PAGE_CACHE_SECONDS = env_int("FORECOURT_PAGE_CACHE_SECONDS", 5)
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)

TASKS = {
    "default": {
        "BACKEND": env_str("FORECOURT_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# payments
# The sandbox provider takes "payments" with a button: never let it near real money. It is on where
# development keys are (demo, DEBUG, tests) unless FORECOURT_PAYMENTS_SANDBOX says otherwise.
PAYMENTS_SANDBOX_ENABLED = env_bool(
    "FORECOURT_PAYMENTS_SANDBOX", DEMO_MODE or DEBUG or env_bool("FORECOURT_ALLOW_DEV_KEYS", False)
)
# Signs the sandbox's asynchronous notifications (HMAC-SHA256), as a gateway's key signs its own.
PAYMENTS_SANDBOX_SIGNING_KEY = env_str("FORECOURT_PAYMENTS_SANDBOX_KEY", "") or _derived_key(
    "payments-sandbox"
)
# An unpaid intent stops taking money after this long (the sandbox page refuses; gateways are told).
PAYMENTS_INTENT_TTL_MINUTES = env_int("FORECOURT_PAYMENTS_INTENT_TTL_MINUTES", 30)
# Signed notifications older (or further in the future) than this are rejected as replays.
PAYMENTS_NOTIFICATION_MAX_AGE_SECONDS = env_int("FORECOURT_PAYMENTS_NOTIFICATION_MAX_AGE_SECONDS", 300)

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

# Alipay and WeChat Pay ------------------------------------------------------------------------------
# A gateway whose ids or keys are unset is unconfigured: its provider's `is_configured()` is False and the
# product offers only the sandbox. Keys are PEM text (literal "\n" escapes allowed), the path of a PEM file,
# or (as Alipay's console shows them) bare base64. Gateway URLs default to the real gateways.


def _env_key(name: str) -> str:
    """A key or certificate from the environment: PEM text, a PEM file's path, or bare base64."""
    import re

    value = env_str(name, "").strip()
    if not value:
        return ""
    if value.startswith("-----BEGIN"):
        return value.replace("\\n", "\n")
    path = Path(value)
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    if re.fullmatch(r"[A-Za-z0-9+/=\s]{64,}", value):
        return value
    raise ConfigurationError(f"{name} must be PEM text, the path of a PEM file or base64; got neither")


def _env_url(name: str, default: str) -> str:
    import re

    value = env_str(name, default).strip()
    if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
        raise ConfigurationError(f"{name} must be an http(s) URL without query, got {value!r}")
    return value


ALIPAY_APP_ID = env_str("FORECOURT_ALIPAY_APP_ID", "").strip()
# The merchant's Alipay user id (PID, 2088…): a notification for any other seller is rejected.
ALIPAY_SELLER_ID = env_str("FORECOURT_ALIPAY_SELLER_ID", "").strip()
ALIPAY_APP_PRIVATE_KEY = _env_key("FORECOURT_ALIPAY_APP_PRIVATE_KEY")
ALIPAY_PUBLIC_KEY = _env_key("FORECOURT_ALIPAY_PUBLIC_KEY")
ALIPAY_GATEWAY_URL = _env_url("FORECOURT_ALIPAY_GATEWAY_URL", "https://openapi.alipay.com/gateway.do")
# Empty: FORECOURT_PUBLIC_URL + /payments/alipay/notify.
ALIPAY_NOTIFY_URL = _env_url("FORECOURT_ALIPAY_NOTIFY_URL", "")

WECHATPAY_MCH_ID = env_str("FORECOURT_WECHATPAY_MCH_ID", "").strip()
WECHATPAY_APP_ID = env_str("FORECOURT_WECHATPAY_APP_ID", "").strip()
# The merchant API key (PKCS#8) and its certificate's serial number sign every request to WeChat Pay.
WECHATPAY_MERCHANT_PRIVATE_KEY = _env_key("FORECOURT_WECHATPAY_MERCHANT_PRIVATE_KEY")
WECHATPAY_MERCHANT_SERIAL_NO = env_str("FORECOURT_WECHATPAY_MERCHANT_SERIAL_NO", "").strip()
WECHATPAY_APIV3_KEY = env_str("FORECOURT_WECHATPAY_APIV3_KEY", "").strip()
if WECHATPAY_APIV3_KEY and len(WECHATPAY_APIV3_KEY.encode()) != 32:
    raise ConfigurationError("FORECOURT_WECHATPAY_APIV3_KEY must be exactly 32 ASCII characters (AES-256)")
# WeChat Pay signs with a platform certificate, or (newer merchants) a platform public key and its id.
WECHATPAY_PLATFORM_CERTIFICATE = _env_key("FORECOURT_WECHATPAY_PLATFORM_CERTIFICATE")
WECHATPAY_PLATFORM_PUBLIC_KEY = _env_key("FORECOURT_WECHATPAY_PLATFORM_PUBLIC_KEY")
WECHATPAY_PLATFORM_PUBLIC_KEY_ID = env_str("FORECOURT_WECHATPAY_PLATFORM_PUBLIC_KEY_ID", "").strip()
if bool(WECHATPAY_PLATFORM_PUBLIC_KEY) != bool(WECHATPAY_PLATFORM_PUBLIC_KEY_ID):
    raise ConfigurationError(
        "FORECOURT_WECHATPAY_PLATFORM_PUBLIC_KEY and FORECOURT_WECHATPAY_PLATFORM_PUBLIC_KEY_ID go together"
    )
WECHATPAY_BASE_URL = _env_url("FORECOURT_WECHATPAY_BASE_URL", "https://api.mch.weixin.qq.com")
# Empty: FORECOURT_PUBLIC_URL + /payments/wechatpay/notify.
WECHATPAY_NOTIFY_URL = _env_url("FORECOURT_WECHATPAY_NOTIFY_URL", "")

# The https origin payers and gateways reach this site at (e.g. https://www.forecourt.example): return
# paths are made absolute with it, and the notify URLs default to <it>/payments/<gateway>/notify.
PAYMENTS_PUBLIC_URL = _env_url("FORECOURT_PUBLIC_URL", "")
# Seconds to wait for either gateway's answer before treating the call as not (yet) done.
PAYMENT_GATEWAY_TIMEOUT_SECONDS = env_int("FORECOURT_PAYMENT_GATEWAY_TIMEOUT_SECONDS", 10)
# End of Alipay and WeChat Pay -------------------------------------------------------------------------

# orders ---------------------------------------------------------------------------------------------
# Intention money (意向金, refundable until the lock) and the whole deposit (定金, the intention money
# included; kept when the buyer cancels after the lock), in fen. A limited edition may set its own.
ORDERS_INTENTION_FEN = env_int("FORECOURT_ORDERS_INTENTION_FEN", 2_000_00)
ORDERS_DEPOSIT_FEN = env_int("FORECOURT_ORDERS_DEPOSIT_FEN", 20_000_00)
if not 0 < ORDERS_INTENTION_FEN <= ORDERS_DEPOSIT_FEN:
    raise ConfigurationError("FORECOURT_ORDERS_INTENTION_FEN must be positive and at most the deposit")
# The lock date a buyer gets by default, and the latest they may choose (days from ordering).
ORDERS_LOCK_DAYS = env_int("FORECOURT_ORDERS_LOCK_DAYS", 7)
ORDERS_LOCK_MAX_DAYS = env_int("FORECOURT_ORDERS_LOCK_MAX_DAYS", 60)
# The promised delivery date, in days after a car is allocated.
ORDERS_DELIVERY_DAYS = env_int("FORECOURT_ORDERS_DELIVERY_DAYS", 14)
# Late-delivery compensation per whole day past the promised date (member points, credited later).
ORDERS_LATE_POINTS_PER_DAY = env_int("FORECOURT_ORDERS_LATE_POINTS_PER_DAY", 100)
# An unpaid limited-edition order whose hold expired this many hours ago is cancelled by the sweeper.
ORDERS_EXPIRED_HOLD_CANCEL_HOURS = env_int("FORECOURT_ORDERS_EXPIRED_HOLD_CANCEL_HOURS", 24)

# offers ---------------------------------------------------------------------------------------------
# The ECDSA P-256 private key (PEM) that signs voucher QR payloads; the dealer's screen checks them with
# the public key before the server answers. Empty: derived from SECRET_KEY (development and demo only).
OFFERS_VOUCHER_SIGNING_KEY = env_str("FORECOURT_OFFERS_VOUCHER_SIGNING_KEY", "").replace("\\n", "\n")
# Where no price floor is set for a trim or model, a car may not go below this share of its price.
OFFERS_DEFAULT_FLOOR_PERCENT = env_int("FORECOURT_OFFERS_DEFAULT_FLOOR_PERCENT", 85)
if not 0 <= OFFERS_DEFAULT_FLOOR_PERCENT <= 100:
    raise ConfigurationError("FORECOURT_OFFERS_DEFAULT_FLOOR_PERCENT must be between 0 and 100")
# A paid coupon not paid for within this many minutes is voided and its budget given back.
OFFERS_PAYMENT_MINUTES = env_int("FORECOURT_OFFERS_PAYMENT_MINUTES", 30)
# Anti-probing: voucher lookups and write-offs per window, per staff member, per store and per IP.
OFFERS_LOOKUP_LIMIT_PER_STAFF = env_int("FORECOURT_OFFERS_LOOKUP_LIMIT_PER_STAFF", 60)
OFFERS_LOOKUP_LIMIT_PER_PLACE = env_int("FORECOURT_OFFERS_LOOKUP_LIMIT_PER_PLACE", 600)
OFFERS_LOOKUP_LIMIT_PER_IP = env_int("FORECOURT_OFFERS_LOOKUP_LIMIT_PER_IP", 120)
OFFERS_LOOKUP_WINDOW_SECONDS = env_int("FORECOURT_OFFERS_LOOKUP_WINDOW_SECONDS", 600)
# Subsidy applications: the scrapping certificate's largest size and accepted types.
OFFERS_CERTIFICATE_MAX_BYTES = env_int("FORECOURT_OFFERS_CERTIFICATE_MAX_BYTES", 5 * 1024 * 1024)
# Subsidy applications: the ID number is stored encrypted (Fernet; the first key encrypts, the others
# still decrypt) with a keyed hash to find a second application with the same ID.
OFFERS_ID_ENCRYPTION_KEYS = env_list("FORECOURT_OFFERS_ID_ENCRYPTION_KEYS", []) or [
    _derived_key("id-encryption")
]
OFFERS_ID_HASH_KEY = env_str("FORECOURT_OFFERS_ID_HASH_KEY", "") or _derived_key("id-hash")

# loyalty --------------------------------------------------------------------------------------------
# Tiers come from qualifying points earned over this rolling window; ops may set the thresholds in the
# console (TierRule), these are the defaults.
LOYALTY_TIER_WINDOW_DAYS = env_int("FORECOURT_LOYALTY_TIER_WINDOW_DAYS", 365)
LOYALTY_TIER_POINTS = {
    "standard": 0,
    "silver": env_int("FORECOURT_LOYALTY_SILVER_POINTS", 2_000),
    "gold": env_int("FORECOURT_LOYALTY_GOLD_POINTS", 8_000),
    "black": env_int("FORECOURT_LOYALTY_BLACK_POINTS", 20_000),
}
if not 0 < LOYALTY_TIER_POINTS["silver"] < LOYALTY_TIER_POINTS["gold"] < LOYALTY_TIER_POINTS["black"]:
    raise ConfigurationError("Loyalty tier thresholds must rise: silver < gold < black")
# A reward's cash part not paid within this many minutes is cancelled and its points given back.
LOYALTY_PAYMENT_MINUTES = env_int("FORECOURT_LOYALTY_PAYMENT_MINUTES", 30)

# referrals ------------------------------------------------------------------------------------------
# A lead arriving within this many days of opening a broker's link is credited to that broker.
REFERRALS_ATTRIBUTION_DAYS = env_int("FORECOURT_REFERRALS_ATTRIBUTION_DAYS", 30)
# CPS becomes available once the delivered car's return window has passed; CPL after a short hold.
REFERRALS_RETURN_WINDOW_DAYS = env_int("FORECOURT_REFERRALS_RETURN_WINDOW_DAYS", 7)
REFERRALS_CPL_HOLD_DAYS = env_int("FORECOURT_REFERRALS_CPL_HOLD_DAYS", 3)
# Velocity: referrals per broker per day beyond which new ones are refused; clusters of this many
# referrals from one device or one address within the cluster window are flagged for review.
REFERRALS_DAILY_LIMIT = env_int("FORECOURT_REFERRALS_DAILY_LIMIT", 20)
REFERRALS_CLUSTER_SIZE = env_int("FORECOURT_REFERRALS_CLUSTER_SIZE", 3)
REFERRALS_CLUSTER_DAYS = env_int("FORECOURT_REFERRALS_CLUSTER_DAYS", 7)
