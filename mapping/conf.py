"""Mapping's knobs, read from the environment once (django-environ), with safe defaults."""

from __future__ import annotations

import environ

env = environ.Env()

# GPS tracking
GPS_RETENTION_DAYS = env.int("GPS_RETENTION_DAYS", default=30)  # detailed points kept this long
GPS_REDUCED_INTERVAL_MIN = env.int("GPS_REDUCED_INTERVAL_MIN", default=5)  # then one point per N min
GPS_PURGE_DAYS = env.int("GPS_PURGE_DAYS", default=365)  # reduced points deleted after this
GPS_MAX_ACCURACY_M = env.float("GPS_MAX_ACCURACY_M", default=200.0)
GPS_MAX_AGE_S = env.int("GPS_MAX_AGE_S", default=600)  # a device time older than this is stale
GPS_MAX_FUTURE_S = env.int("GPS_MAX_FUTURE_S", default=30)  # clock skew tolerated
GPS_MAX_SPEED_MPS = env.float("GPS_MAX_SPEED_MPS", default=60.0)  # ~216 km/h: faster is a jump
GPS_PUSH_INTERVAL_S = env.float("GPS_PUSH_INTERVAL_S", default=1.0)

# Routing
ROUTING_URL = env.str("ROUTING_URL", default="")  # OSRM-compatible /table service, optional
ROUTING_TIMEOUT_S = env.float("ROUTING_TIMEOUT_S", default=5.0)
ROUTE_DETOUR_FACTOR = env.float("ROUTE_DETOUR_FACTOR", default=1.35)
ROUTE_TIMEOUT_S = env.float("ROUTE_TIMEOUT_S", default=10.0)  # a whole day's plan improves this long
ROUTE_REPLAN_TIMEOUT_S = env.float("ROUTE_REPLAN_TIMEOUT_S", default=1.0)  # after one booking, from the plan
# Every open job with a window this many days ahead is in a plan: nightly (horizon_plan) and on each change.
PLAN_HORIZON_DAYS = env.int("PLAN_HORIZON_DAYS", default=14)

# Geocoding (Nominatim-compatible); empty: staff pick the point on the map
GEOCODER_URL = env.str("GEOCODER_URL", default="")
GEOCODER_TIMEOUT_S = env.float("GEOCODER_TIMEOUT_S", default=5.0)
GEOCODER_USER_AGENT = env.str("GEOCODER_USER_AGENT", default="hvaccrm-mapping/1.0")

# Pages
PROPHECY_HOTSPOTS_URL = env.str("PROPHECY_HOTSPOTS_URL", default="/api/prophecy/hotspots.geojson")

# Scheduling
SLOT_PROPOSALS = env.int("SLOT_PROPOSALS", default=3)
