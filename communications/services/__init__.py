"""The writes of communications: messages, notifications and deliveries, emergency routing and
its escalation chain (accept, decline).

Every function is keyword-only and runs in one transaction; pushes go out after commit through the
core's event helpers, and the outbox rows other subsystems need are written inside the transaction.
The functions the integration layer calls (notify, notify_role, notify_district_technicians,
emergency_dispatch, job_update_notify, delivery_attempt, client_data_anonymise) are idempotent.
"""

from __future__ import annotations

from communications.inbound import (
    channel_preference_set,
    inbound_emergency_alert,
    inbound_thread_link,
    message_relay,
    telegram_link_code_create,
    telegram_link_state,
    telegram_unlink,
)
from communications.privacy import client_data_anonymise
from communications.services.alerts import alert_chain
from communications.services.common import (
    ALERT_OBJECT,
    DELIVERY_KIND,
    DELIVERY_OBJECT,
    MAX_BODY,
    conversation_can_access,
    user_is_office,
)
from communications.services.deliveries import (
    DeliveryFailed,
    consent_granted,
    deliveries_in_app_push,
    deliveries_in_app_received,
    deliveries_in_app_undelivered,
    delivery_attempt,
    delivery_attempt_or_raise,
    delivery_retry,
    delivery_states_sync,
    email_notification_create,
)
from communications.services.emergencies import (
    alert_escalate,
    alert_step_advance,
    emergency_dispatch,
    escalation_sweep,
)
from communications.services.jobs import job_update_notify, reminders_send
from communications.services.maintenance import maintenance_notices_send, visit_moved_notify
from communications.services.messages import (
    client_message_send,
    conversation_start,
    message_data,
    message_outbox_payloads,
    message_read,
    message_send,
)
from communications.services.notifications import (
    NotificationSpec,
    emergency_sms_set,
    notification_ack,
    notification_read,
    notify,
    notify_district_technicians,
    notify_role,
    preference_set,
)
from communications.services.responses import alert_accept, alert_decline
from communications.services.triage import message_urgency_correct
from hvaccrm.errors import ServiceError

__all__ = [
    "ALERT_OBJECT",
    "DELIVERY_KIND",
    "DELIVERY_OBJECT",
    "MAX_BODY",
    "DeliveryFailed",
    "NotificationSpec",
    "ServiceError",
    "alert_accept",
    "alert_chain",
    "alert_decline",
    "alert_escalate",
    "alert_step_advance",
    "channel_preference_set",
    "client_data_anonymise",
    "client_message_send",
    "consent_granted",
    "conversation_can_access",
    "conversation_start",
    "deliveries_in_app_push",
    "deliveries_in_app_received",
    "deliveries_in_app_undelivered",
    "delivery_attempt",
    "delivery_attempt_or_raise",
    "delivery_retry",
    "delivery_states_sync",
    "email_notification_create",
    "emergency_dispatch",
    "escalation_sweep",
    "inbound_emergency_alert",
    "inbound_thread_link",
    "job_update_notify",
    "message_data",
    "message_outbox_payloads",
    "message_read",
    "message_relay",
    "message_send",
    "message_urgency_correct",
    "notification_ack",
    "notification_read",
    "notify",
    "notify_district_technicians",
    "maintenance_notices_send",
    "notify_role",
    "visit_moved_notify",
    "preference_set",
    "emergency_sms_set",
    "reminders_send",
    "telegram_link_code_create",
    "telegram_link_state",
    "telegram_unlink",
    "user_is_office",
]
