"""The portal's channels page: a Telegram link code shown once, unlinking, the reply channel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from communications.models import ChannelLink, ChannelPreference, LinkCode

pytestmark = pytest.mark.django_db


def test_the_client_gets_a_link_code_and_can_unlink_telegram(client, anna_user, client_anna):
    client.force_login(anna_user)
    page = client.post(reverse("portal:channels"), {"action": "code"})
    assert page.status_code == 200 and "/start " in page.content.decode()
    assert LinkCode.objects.get().client == client_anna
    ChannelLink.objects.create(client=client_anna, channel="telegram", address="555")
    client.post(reverse("portal:channels"), {"action": "unlink"})
    assert not ChannelLink.objects.exists()


def test_the_client_chooses_where_the_office_answers(client, anna_user, client_anna):
    client.force_login(anna_user)
    client.post(reverse("portal:channels"), {"action": "reply_channel", "channel": "telegram"})
    assert ChannelPreference.objects.get(client=client_anna).channel == "telegram"


def test_bartek_cannot_unlink_annas_chat(client, bartek_user, client_anna):
    ChannelLink.objects.create(client=client_anna, channel="telegram", address="555")
    client.force_login(bartek_user)
    client.post(reverse("portal:channels"), {"action": "unlink"})
    assert ChannelLink.objects.filter(client=client_anna).exists()
