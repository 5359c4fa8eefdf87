"""Playwright driving Debian's chromium against pytest-django's live server.

Kept few and fast: one browser per test module (module scope, not session:
Playwright's sync API allows one running instance at a time, and other
modules start their own), a fresh page per test,
the staff session handed over as a cookie instead of typing a password.
"""

from __future__ import annotations

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# from the test body are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("ORDER_MAIL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise pytest.UsageError(f"{CHROMIUM} is missing in CI: the browser tests must run")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (.ci/run installs it)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(settings, live_server):
    """The live server with static files, and its base URL."""
    settings.ROOT_URLCONF = "tests.browser.urls"
    settings.STATIC_URL = "/static/"
    settings.DEBUG = False
    return live_server.url


@pytest.fixture
def staff_page(browser, site, django_user_model, settings):
    """A page logged in as a superuser with an email address."""
    from django.test import Client

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = django_user_model.objects.create_superuser("anna", "anna@shop.example", "pw")
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
