"""The client's outside channels in the portal: link the Telegram bot by a one-time code, unlink
it, and choose where the office's replies go. Everything through integration/portal.py."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hvaccrm.errors import ServiceError
from integration import portal as subsystems
from portal.views import _page, client_required

REPLY_CHANNELS = ("", "sms", "telegram", "email")


@client_required
@require_http_methods(["GET", "POST"])
def channels(request):
    client_id = request.portal_client.pk
    code = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "code":
            # Shown once on this answer, never stored in clear: a reload shows no code.
            code = subsystems.telegram_link_code_create(client_id=client_id)
        elif action == "unlink":
            subsystems.telegram_unlink(client_id=client_id)
            messages.success(request, _("Telegram is unlinked: the bot no longer knows your chat."))
            return redirect("portal:channels")
        elif action == "reply_channel" and request.POST.get("channel", "") in REPLY_CHANNELS:
            try:
                subsystems.channel_preference_set(client_id=client_id, channel=request.POST.get("channel", ""))
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Saved: the office answers where you chose."))
            return redirect("portal:channels")
    state = subsystems.channels_state(client_id=client_id)
    return _page(request, "portal/channels.html", {"state": state, "code": code,
                                                   "choices": [("", _("where I last wrote")), ("sms", _("SMS")),
                                                               ("telegram", "Telegram"), ("email", _("e-mail"))]})
