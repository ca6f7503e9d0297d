"""Audit's own settings, read from the environment with safe defaults."""

from __future__ import annotations

import environ

env = environ.Env()

# Window over which success rates and latencies are computed (minutes).
HEALTH_WINDOW_MINUTES = env.int("AUDIT_HEALTH_WINDOW_MINUTES", default=60)
# Below this many finished rows in the window a rate says little: the state is never worse than amber.
HEALTH_MIN_SAMPLE = env.int("AUDIT_HEALTH_MIN_SAMPLE", default=20)
# A pending row older than this is a stuck backlog (the sweep runs every 5 minutes).
BACKLOG_STALE_MINUTES = env.int("AUDIT_BACKLOG_STALE_MINUTES", default=15)
# Access-trail entries older than this are deleted by the nightly retention task (RODO: 2 years).
ACCESS_TRAIL_RETENTION_DAYS = env.int("ACCESS_TRAIL_RETENTION_DAYS", default=730)
# Bearer token that Prometheus sends to /audit/metrics (empty: staff session only).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# An on-shift technician whose last position is older than this has a stale position.
STALE_POSITION_MINUTES = env.int("AUDIT_STALE_POSITION_MINUTES", default=30)
# How far back the consistency report looks at messages and logs (days).
CONSISTENCY_WINDOW_DAYS = env.int("AUDIT_CONSISTENCY_WINDOW_DAYS", default=30)
# Grace period before a fresh message or emergency counts as out of step (its rows may be in flight).
CONSISTENCY_GRACE_SECONDS = env.int("AUDIT_CONSISTENCY_GRACE_SECONDS", default=120)
# An in-app notification no page has received counts in the consistency report only after this
# long: until then the recipient simply has not opened a page yet, which is no fault of anyone.
IN_APP_UNDELIVERED_MINUTES = env.int("AUDIT_IN_APP_UNDELIVERED_MINUTES", default=60)
# Demand against weight on the trends page: jobs created over this many weeks, and how far (in
# percentage points) a district's share of them may be from its share of the weights before a hint.
DEMAND_WEEKS = env.int("AUDIT_DEMAND_WEEKS", default=12)
DEMAND_HINT_POINTS = env.float("AUDIT_DEMAND_HINT_POINTS", default=2.0)
