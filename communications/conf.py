"""The communications app's own knobs, read from the environment (django-environ)."""

from __future__ import annotations

import environ

env = environ.Env()

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

# The escalation chain of an emergency: each step waits this many seconds for an accept before the
# next starts (at once when all of a step decline). District technicians (nearest first) ->
# neighbouring districts -> dispatchers -> managers. The beat checks every 15 s.
CHAIN_DISTRICT_SECONDS = env.int("COMMS_CHAIN_DISTRICT_SECONDS", default=120)
CHAIN_NEIGHBOURS_SECONDS = env.int("COMMS_CHAIN_NEIGHBOURS_SECONDS", default=180)
CHAIN_DISPATCHERS_SECONDS = env.int("COMMS_CHAIN_DISPATCHERS_SECONDS", default=300)
CHAIN_MANAGERS_SECONDS = env.int("COMMS_CHAIN_MANAGERS_SECONDS", default=600)
# The ETA told to the client when a technician accepts: distance at this average city speed, at
# least the minimum; the default when the technician's position is unknown.
ETA_SPEED_KMH = env.float("COMMS_ETA_SPEED_KMH", default=25.0)
ETA_MIN_MINUTES = env.int("COMMS_ETA_MIN_MINUTES", default=10)
ETA_UNKNOWN_MINUTES = env.int("COMMS_ETA_UNKNOWN_MINUTES", default=45)

# --- Two-way channels (communications/inbound; docs/channels.md) ---------------------------------
# Each webhook refuses everything (403) while its secret is empty.
# Generic SMS gateway webhook: HMAC-SHA256 of the raw body with this secret, hex, in X-Signature.
INBOUND_SMS_SECRET = env.str("COMMS_INBOUND_SMS_SECRET", default="")
# Twilio's form posts: X-Twilio-Signature checked with the account's auth token.
TWILIO_AUTH_TOKEN = env.str("COMMS_TWILIO_AUTH_TOKEN", default="")
# The public base URL the gateways call (Twilio signs the full URL); empty: the request's own.
INBOUND_PUBLIC_URL = env.str("COMMS_INBOUND_PUBLIC_URL", default="")
# The region a number without a country code belongs to (E.164 normalisation).
SMS_DEFAULT_REGION = env.str("COMMS_SMS_DEFAULT_REGION", default="PL")
# Telegram: the secret_token given to setWebhook (sent back in X-Telegram-Bot-Api-Secret-Token)
# and the bot's username for the portal's t.me link.
TELEGRAM_WEBHOOK_SECRET = env.str("COMMS_TELEGRAM_WEBHOOK_SECRET", default="")
TELEGRAM_BOT_USERNAME = env.str("COMMS_TELEGRAM_BOT_USERNAME", default="")
# Minutes a Telegram link code shown in the portal stays valid (single use).
LINK_CODE_MINUTES = env.int("COMMS_LINK_CODE_MINUTES", default=15)
# Inbound e-mail webhook: HMAC-SHA256 of the raw body, hex, in X-Signature; raw messages over the
# size limit are refused (413).
INBOUND_EMAIL_SECRET = env.str("COMMS_INBOUND_EMAIL_SECRET", default="")
INBOUND_EMAIL_MAX_BYTES = env.int("COMMS_INBOUND_EMAIL_MAX_BYTES", default=1_000_000)
# The domain of the Message-IDs of the office's e-mail replies (threading by In-Reply-To).
EMAIL_MESSAGE_ID_DOMAIN = env.str("COMMS_EMAIL_MESSAGE_ID_DOMAIN", default="hvaccrm.local")
# Inbound texts per sender (a number, a chat, an e-mail address) per minute; over it: 429.
INBOUND_RATE_PER_MINUTE = env.int("COMMS_INBOUND_RATE_PER_MINUTE", default=10)
INBOUND_DEDUPE_SECONDS = env.int("COMMS_INBOUND_DEDUPE_SECONDS", default=86400)
