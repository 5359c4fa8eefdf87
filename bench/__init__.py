"""Benchmarks of django-order-mail (not part of the test run).

``bash bench/run.sh`` (or ``.venv/bin/python -m bench.run``) runs them all on
PostgreSQL, a Redis server it starts, real ``celery worker`` processes and
Anymail's Postmark backend against a fast fake ESP, and writes
``docs/performance.md``.
"""
