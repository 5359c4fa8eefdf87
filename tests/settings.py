"""Settings for the unit tests (SQLite, in-memory email) and, with
ORDER_MAIL_TEST_DB=postgres, for the integration tests."""

import os

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DEFAULT_FROM_EMAIL = "Test Shop <orders@shop.example>"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",  # live_server serves the admin's CSS to browser tests
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
    "tests.testapp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
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

if os.environ.get("ORDER_MAIL_TEST_DB") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("PGDATABASE", "test"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "TEST": {"NAME": os.environ.get("ORDER_MAIL_TEST_DB_NAME", "test_django_order_mail")},
        }
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# pytest-django's live_server needs it (its static handler fails on None).
STATIC_URL = "/static/"
# Review photos (django_order_mail.reviews) go to memory: no test writes files.
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
ANYMAIL = {}

CELERY_TASK_ALWAYS_EAGER = False
ORDER_MAIL = {
    "SITE_URL": "https://shop.example",
    # Unit tests record publishes in the on-commit callback (conftest.broker);
    # tests/outbox/test_publisher.py tests the background publisher on its own, and
    # the integration settings switch it back on against real Redis.
    "PUBLISH_IN_BACKGROUND": False,
    # Unit tests run inside one database transaction that other threads
    # cannot see: send in the test's own thread. The integration settings
    # use the default (several sending threads per worker process).
    "DELIVERY_CONCURRENCY": 1,
    "BRANDING": {
        "name": "Test Shop",
        "support_email": "help@shop.example",
        "support_phone": "+47 22 00 00 00",
        "help_url": "https://shop.example/help",
        "postal_address": "Test Shop AS\nStorgata 1\n0150 Oslo",
    },
}
