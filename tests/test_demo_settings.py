"""The demo shop's settings (example_project/demo_shop/settings.py): the
links in its emails follow the port scripts/demo.sh serves on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "example_project"

PRINT_URLS = (
    "import json, demo_shop.settings as s; "
    "print(json.dumps([s.SITE_URL, s.ORDER_MAIL['SITE_URL'], s.ORDER_MAIL['BRANDING']['website_url']]))"
)


def demo_urls(**env) -> list[str]:
    """Import the settings in a fresh interpreter with only ``env`` set of the
    demo's variables."""
    clean = {
        k: v for k, v in os.environ.items() if k not in ("SITE_URL", "DEMO_PORT", "DJANGO_SETTINGS_MODULE")
    }
    result = subprocess.run(
        [sys.executable, "-c", PRINT_URLS],
        cwd=EXAMPLE,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"DEMO_PORT": "8765"}, "http://127.0.0.1:8765"),
        ({"DEMO_PORT": "8765", "SITE_URL": "https://shop.example/"}, "https://shop.example"),
    ],
)
def test_site_url_follows_demo_port_unless_set(env, url):
    assert demo_urls(**env) == [url, url, url]
