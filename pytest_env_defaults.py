"""Environment for the test run, set before pytest-django loads the settings (`-p` in pyproject).

Tests use the real PostgreSQL and Redis named by DATABASE_URL / REDIS_URL; per-run cache, channel
and queue prefixes keep them apart from a demo on the same Redis, and the live servers that the
browser tests start inherit the same prefixes, so a push from a test reaches their sockets.
"""

from __future__ import annotations

import os
import secrets

os.environ.setdefault("TESTING", "true")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("CACHE_KEY_PREFIX", f"test-{os.getpid()}")
os.environ.setdefault("CHANNEL_PREFIX", f"test{os.getpid()}")
os.environ.setdefault("CELERY_QUEUE", f"test-{os.getpid()}")
os.environ.setdefault("AXES_ENABLED", "true")
# One random key per run, shared with the servers and workers the tests start (signed links,
# sessions); never a literal in the repository.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
