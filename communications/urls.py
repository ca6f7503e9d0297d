from __future__ import annotations

from django.urls import path

from communications import views
from communications.inbound import views as inbound

app_name = "communications"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/", views.conversation, name="conversation"),
    # The gateways' webhooks (communications/inbound; docs/channels.md).
    path("inbound/sms/", inbound.sms_webhook, name="inbound-sms"),
    path("inbound/sms/<slug:provider>/", inbound.sms_webhook, name="inbound-sms-provider"),
    path("inbound/telegram/", inbound.telegram_webhook, name="inbound-telegram"),
    path("inbound/email/", inbound.email_webhook, name="inbound-email"),
]
