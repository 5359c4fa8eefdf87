"""Customer-facing URLs: ``path("mail/", include("django_order_mail.urls"))``.

The core has no customer page of its own; each installed feature app adds
its pages here with :func:`register_urls` from its app config (the survey,
unsubscribe and preferences, cart restore), so one ``include`` in the
shop's URLconf serves whichever features are installed and the names stay
in the ``django_order_mail`` namespace (``docs/installation.rst``).
"""

from __future__ import annotations

from django.urls import include, path

app_name = "django_order_mail"

#: Filled by the feature apps' ``ready()``, read when the URLconf is first
#: resolved (after every app is ready).
urlpatterns: list = []


def register_urls(prefix: str, module: str) -> None:
    """Serve the URL patterns of ``module`` under ``prefix`` (``"feedback/"``,
    ``""``) inside this namespace. Registering the same module again is a
    no-op."""
    for pattern in urlpatterns:
        included = getattr(pattern, "urlconf_name", None)
        if getattr(included, "__name__", included) == module:
            return
    urlpatterns.append(path(prefix, include(module)))
