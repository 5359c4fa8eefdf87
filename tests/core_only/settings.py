"""A project with the core only: no feature app of django_order_mail.

Run by ``scripts/test.sh`` (``pytest tests/core_only --ds
tests.core_only.settings --noconftest``): the core must install, check,
migrate and send every order-lifecycle email without any feature app
(docs/architecture.rst).
"""

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.core_only.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DEFAULT_FROM_EMAIL = "Core Shop <orders@shop.example>"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "anymail",
    "django_order_mail",
    "tests.core_only.shop",
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
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
ANYMAIL: dict = {}
ORDER_MAIL = {
    "SITE_URL": "https://shop.example",
    "PUBLISH_IN_BACKGROUND": False,
    "BRANDING": {"name": "Core Shop", "support_email": "help@shop.example"},
}
