"""The communications app's own knobs, read from the environment (django-environ)."""

from __future__ import annotations

import environ

env = environ.Env()

# Seconds an emergency alert may stay unacknowledged before it goes to the neighbouring districts'
# technicians and the dispatchers (the beat runs the sweep every 30 s).
ESCALATION_SECONDS = env.int("COMMS_ESCALATION_SECONDS", default=300)
# Channels a user gets when they set no preference (in-app always works; e-mail when known).
DEFAULT_CHANNELS = env.list("COMMS_DEFAULT_CHANNELS", default=["in_app", "email"])
# Emergencies also go by SMS when the recipient has a phone number.
EMERGENCY_CHANNELS = env.list("COMMS_EMERGENCY_CHANNELS", default=["in_app", "sms"])
# SMS gateway: POST JSON {"to", "text", "sender"} with a bearer token; any 2xx is accepted.
SMS_GATEWAY_URL = env.str("COMMS_SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("COMMS_SMS_GATEWAY_TOKEN", default="")
SMS_SENDER = env.str("COMMS_SMS_SENDER", default="HVAC")
# Telegram Bot API base (https://api.telegram.org) and the bot token; sendMessage is called.
TELEGRAM_API_URL = env.str("COMMS_TELEGRAM_API_URL", default="https://api.telegram.org")
TELEGRAM_BOT_TOKEN = env.str("COMMS_TELEGRAM_BOT_TOKEN", default="")
# Seconds an HTTP gateway may take before the attempt counts as failed (the outbox retries it).
GATEWAY_TIMEOUT = env.float("COMMS_GATEWAY_TIMEOUT", default=5.0)
# Base URL for links in e-mails and SMS (feedback link, inbox).
# The same public address as the rest of the site unless e-mails must point elsewhere.
SITE_URL = env.str("COMMS_SITE_URL", default=env.str("SITE_URL", default="http://127.0.0.1:8000"))
