"""Settings of the django-order-mail demo shop.

Defaults need no servers: SQLite in ``var/db.sqlite3``, Celery over kombu's
filesystem transport in ``var/broker/``, emails written to ``var/sent_mail/``.
Environment variables switch the same project to production-like services:

* ``DATABASE_URL``      postgres://user:password@host:5432/name  (or sqlite:////abs/path.sqlite3)
* ``CELERY_BROKER_URL`` redis://localhost:6379/0, amqp://guest:guest@localhost:5672//
* ``EMAIL_BACKEND``     e.g. anymail.backends.postmark.EmailBackend (+ ``ANYMAIL_*`` below)
* ``SITE_URL``, ``DJANGO_SECRET_KEY``, ``DJANGO_DEBUG``, ``DJANGO_ALLOWED_HOSTS``
* ``DEMO_PORT``         the port ``scripts/demo.sh`` serves on (default 8000): without
  ``SITE_URL`` the links in the emails point to http://127.0.0.1:<DEMO_PORT>
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DEMO_VAR_DIR", BASE_DIR / "var"))
SENT_MAIL_DIR = VAR_DIR / "sent_mail"
BROKER_DIR = VAR_DIR / "broker"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-shop-insecure-key-change-me-in-production")
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
DEMO_PORT = os.environ.get("DEMO_PORT", "").strip() or "8000"
SITE_URL = (os.environ.get("SITE_URL") or f"http://127.0.0.1:{DEMO_PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "anymail",
    "django_order_mail",
    # The feature apps; each is optional (docs/installation.rst). Their
    # receivers run in this order: suppression before the cart checks.
    "django_order_mail.tracking",
    "django_order_mail.feedback",
    "django_order_mail.reviews",
    "django_order_mail.carts",
    "django_order_mail.marketplaces",
    "django_order_mail.carrier_tracking",
    "django_order_mail.recommendations",
    "shop",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "demo_shop.urls"
WSGI_APPLICATION = "demo_shop.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


# -- database -------------------------------------------------------------------
def database_from_url(url: str) -> dict:
    """A tiny DATABASE_URL parser (postgres[ql]://, sqlite:///) - no extra dependency."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(parts.path[1:]) or ":memory:"}
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ValueError(f"Unsupported DATABASE_URL scheme {parts.scheme!r}")


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
elif os.environ.get("PGDATABASE"):  # libpq-style separate variables
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["PGDATABASE"],
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                # The web process, the command and two worker processes share
                # one file: wait for locks, take the write lock up front
                # (no lock-upgrade deadlocks), let readers run beside a writer.
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- i18n: the languages the shop's customers write in ---------------------------
LANGUAGE_CODE = "en"
# The languages django-order-mail ships translations for (docs/translating.rst);
# an order in zh-HK gets zh-hant, one in nn gets nb, one in pt falls back to en.
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("fr", "Français"),
    ("nb", "Norsk bokmål"),
    ("ru", "Русский"),
    ("zh-hans", "简体中文"),
    ("zh-hant", "繁體中文"),
]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Customer photos of product reviews (django_order_mail.reviews), through the
# default storage; served by the demo's URLconf while DEBUG is on.
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

# -- email ----------------------------------------------------------------------
# The demo backend writes every message to var/sent_mail/ (.eml + .html). For a
# real ESP set EMAIL_BACKEND=anymail.backends.<esp>.EmailBackend and its keys.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "demo_shop.mail_backend.FileEmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Nordlys Goods <orders@nordlys-goods.example>")
ANYMAIL = {
    key[len("ANYMAIL_") :]: value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_") and key != "ANYMAIL_"
}
# Fraction (0..1) of sends the demo backend fails with an HTTP 503, to watch retries.
DEMO_MAIL_FAILURE_RATE = float(os.environ.get("DEMO_MAIL_FAILURE_RATE", "0"))

# -- Celery ---------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: one folder both writes to and reads from.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.2,  # seconds between looks into the folder (default 1)
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Longer than ORDER_MAIL RETRY_BACKOFF_MAX so delayed retries are not redelivered early.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task gets its message redelivered
# On a broker outage, let a running send task finish: each email it sends is
# recorded right after its ESP call, and the redelivered message then finds
# nothing left to claim. Cancelling it (Celery 6's planned default) could
# kill it between an ESP call and its record: a duplicate (docs/deployment.rst).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # one email per process at a time
CELERY_TASK_IGNORE_RESULT = True  # the outbox row is the result
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_MAX_TASKS_PER_CHILD = 1000

# -- django-order-mail ------------------------------------------------------------
ORDER_MAIL = {
    "SITE_URL": SITE_URL,
    "FEEDBACK_DELAY_DAYS": 7,
    # "You might also like" in the confirmation, shipping and delivered emails:
    # other products bought together with these (docs/recommendations.rst),
    # and a referral block in the shipping confirmation.
    "RECOMMENDATIONS_PROVIDER": "django_order_mail.recommendations.bought_together.recommend",
    "RECOMMENDATIONS_REFERRAL_URL": f"{SITE_URL}/refer/",
    "CHANNELS": {
        "amazon_fba": {
            "events": ["feedback_request"],
            "feedback_delay_days": 5,
            "reason": "Amazon sends this email for FBA orders",
        }
    },
    "BRANDING": {
        "name": "Nordlys Goods",
        "sender_name": "Nordlys Goods",
        # PNG: Gmail and most email programs show no SVG (docs/settings.rst).
        "logo_url": f"{SITE_URL}/static/shop/img/logo.png",
        "website_url": SITE_URL,
        "primary_color": "#0f3d3e",
        "accent_color": "#e07a5f",
        "background_color": "#f4f1ea",
        "text_color": "#1b1b1b",
        "support_email": "help@nordlys-goods.example",
        "support_phone": "+47 22 12 34 56",
        "help_url": f"{SITE_URL}/help/",
        "returns_url": f"{SITE_URL}/returns/",
        "warranty_url": f"{SITE_URL}/warranty/",
        "returns_policy": "30-day free returns. Damaged or wrong item? Reply to this email with a photo "
        "and we send a replacement at our cost.",
        "postal_address": "Nordlys Goods AS\nMøllergata 12\n0179 Oslo\nNorway",
        "social_links": [
            {"name": "Instagram", "url": "https://www.instagram.com/"},
            {"name": "Facebook", "url": "https://www.facebook.com/"},
            {"name": "Pinterest", "url": "https://www.pinterest.com/"},
        ],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django_order_mail": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "demo_shop": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

for folder in (
    VAR_DIR,
    MEDIA_ROOT,
    SENT_MAIL_DIR,
    BROKER_DIR / "queue",
    BROKER_DIR / "processed",
    BROKER_DIR / "control",
):
    folder.mkdir(parents=True, exist_ok=True)
