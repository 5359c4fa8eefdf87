"""Sphinx configuration for django-order-mail.

Builds offline with the builtin ``alabaster`` theme and no extensions that
need the network or external tools:

    .venv/bin/sphinx-build -W -b html docs docs/_build/html
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "django-order-mail"
author = "django-order-mail contributors"
copyright = "django-order-mail contributors"

try:
    from django_order_mail import __version__ as release
except ImportError:  # the docs must build even without the package installed
    release = "0.1.0"
version = ".".join(release.split(".")[:2])

extensions = []

templates_path = []
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

root_doc = "index"
language = "en"
highlight_language = "python"
pygments_style = "sphinx"

html_theme = "alabaster"
html_static_path = []
html_title = f"django-order-mail {release}"
html_theme_options = {
    "description": "Order-lifecycle emails for Django shops: nothing lost, nothing doubled.",
    "fixed_sidebar": True,
    "page_width": "1100px",
}
