"""Login throttling fails closed (issue 20, suite 2): while Redis cannot count sign-in link
requests, none is sent (the form answers as always), rather than letting requests through
uncounted. A real Redis client against a port where nothing listens."""

from __future__ import annotations

import socket

import pytest
from django.test import override_settings

from hvaccrm.models import IntegrationLog
from portal.services import login_link_request

pytestmark = pytest.mark.django_db


def test_no_sign_in_link_is_sent_while_the_rate_limit_cannot_count(settings, anna_user):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0"}}
    with override_settings(CACHES=down):
        assert login_link_request(email=anna_user.email, ip_address="10.0.0.1") is False
    assert not IntegrationLog.objects.filter(kind="signin_link.send").exists()
    assert login_link_request(email=anna_user.email, ip_address="10.0.0.1") is True  # Redis back: sent
