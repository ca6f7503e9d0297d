"""The portal's knobs, read from the environment (django-environ) with safe defaults."""

from __future__ import annotations

import environ

env = environ.Env()

# A client may cancel or move a visit until this many hours before it starts.
CHANGE_CUTOFF_HOURS = env.int("PORTAL_CHANGE_CUTOFF_HOURS", default=24)
# Passwordless sign-in links: single use, bound to one account, valid this long.
LOGIN_LINK_MINUTES = env.int("PORTAL_LOGIN_LINK_MINUTES", default=15)
# An invitation e-mailed by the office is also a single-use link; it may live longer.
INVITE_LINK_HOURS = env.int("PORTAL_INVITE_LINK_HOURS", default=72)
# How many sign-in links one address or IP may ask for per window (stops mail bombing).
LINK_REQUESTS_PER_WINDOW = env.int("PORTAL_LINK_REQUESTS_PER_WINDOW", default=5)
LINK_REQUEST_WINDOW_SECONDS = env.int("PORTAL_LINK_REQUEST_WINDOW_SECONDS", default=900)
# Booking: windows offered in the coming N weeks, starting at least LEAD hours from now.
BOOKING_WEEKS = env.int("PORTAL_BOOKING_WEEKS", default=4)
BOOKING_LEAD_HOURS = env.int("PORTAL_BOOKING_LEAD_HOURS", default=12)
# Visits a technician can take in one window; a district's capacity is this times its technicians.
WINDOW_JOBS_PER_TECHNICIAN = env.int("PORTAL_WINDOW_JOBS_PER_TECHNICIAN", default=2)
# The version of the consent texts shown in the portal (stored with every consent entry).
CONSENT_TEXT_VERSION = env.str("PORTAL_CONSENT_TEXT_VERSION", default="2026-01")

# An emergency booked again by the same user at the same site within this many minutes is the
# booking they already made (a resubmitted form must not send a second alert).
EMERGENCY_RESUBMIT_MINUTES = env.int("PORTAL_EMERGENCY_RESUBMIT_MINUTES", default=30)

# Time windows of a working day (local time): (start hour, end hour). Saturday has the morning only.
WEEKDAY_WINDOWS = ((8, 12), (12, 16), (16, 20))
SATURDAY_WINDOWS = ((8, 12),)
# The booking page's live triage (gas warning while typing): checks per user per minute, and how
# much of the description is sent (the classifier reads the head of a text; the form allows more).
TRIAGE_CHECKS_PER_MINUTE = env.int("PORTAL_TRIAGE_CHECKS_PER_MINUTE", default=60)
TRIAGE_MAX_CHARS = 4000
