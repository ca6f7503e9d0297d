"""Factories of communications rows (core rows come from hvaccrm/tests/factories.py)."""

from __future__ import annotations

import factory

from communications.models import Conversation, Message
from hvaccrm.tests.factories import ClientFactory


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    client = factory.SubFactory(ClientFactory)
    subject = factory.Sequence(lambda n: f"Rozmowa {n}")
    channel = "portal"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    author_role = "client"
    body = "Dzień dobry, proszę o przegląd klimatyzacji"
    language = "pl"
