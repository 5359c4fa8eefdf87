"""Settings of the quickstart shop, shown in docs/quickstart.rst.

Django's ``startproject`` settings plus what django-order-mail needs. The
environment supplies only what differs between deployments: DJANGO_SECRET_KEY,
PGDATABASE (PostgreSQL instead of the SQLite file), POSTMARK_SERVER_TOKEN,
ANYMAIL_WEBHOOK_SECRET, POSTMARK_API_URL (rarely) and CELERY_BROKER_URL.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-insecure-quickstart-only-set-DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = ["socks.example", "localhost", "127.0.0.1"]

# -- Apps ---------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",  # optional: the send log lives in the admin
    "django.contrib.auth",
    "django.contrib.contenttypes",  # required
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "anymail",  # required
    "django_order_mail",  # required: the core, every order-lifecycle email
    # Optional feature apps (docs/installation.rst). Their receivers run in
    # this order: keep tracking before carts.
    "django_order_mail.tracking",  # webhooks, suppression list, unsubscribe
    "django_order_mail.feedback",  # feedback request and survey
    "django_order_mail.carts",  # abandoned-cart reminders
    "django_order_mail.marketplaces",  # marketplace status sync
    "shop",  # your app with the Order model
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "proj.urls"
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
            ],
        },
    },
]

# -- Database -----------------------------------------------------------------
if os.environ.get("PGDATABASE"):
    # Production: PostgreSQL. libpq reads PGHOST, PGPORT, PGUSER and
    # PGPASSWORD from the environment itself.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["PGDATABASE"],
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }
else:
    # Trying it out: one SQLite file, shared by the web process and the
    # worker. Wait for locks, and take the write lock when a transaction
    # starts rather than deadlocking on an upgrade.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

# -- Email through your ESP (Postmark here; any Anymail ESP works) ----------
EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
ANYMAIL = {
    "POSTMARK_SERVER_TOKEN": os.environ.get("POSTMARK_SERVER_TOKEN", ""),
    # "user:password" that the ESP's tracking webhook URL carries (basic auth).
    "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", ""),
}
if os.environ.get("POSTMARK_API_URL"):  # a proxy or a test double; rarely needed
    ANYMAIL["POSTMARK_API_URL"] = os.environ["POSTMARK_API_URL"]
DEFAULT_FROM_EMAIL = "Nordic Socks <orders@socks.example>"

# -- django-order-mail --------------------------------------------------------
ORDER_MAIL = {
    "SITE_URL": "https://socks.example",
    "BRANDING": {
        "name": "Nordic Socks",
        "support_email": "help@socks.example",
    },
}

# -- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}  # Redis' default, made explicit
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
