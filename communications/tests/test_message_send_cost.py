"""message_send's per-message cost: a conversation the caller already read is not read again (its
author's access is still checked), and the district is read without its boundary."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communications import services
from communications.models import Conversation, Message
from communications.tests.factories import ConversationFactory
from hvaccrm.errors import ServiceError

pytestmark = pytest.mark.django_db


def test_a_conversation_handed_in_is_not_read_again_and_the_district_comes_without_its_boundary(client_anna):
    conversation = Conversation.objects.get(pk=ConversationFactory(client=client_anna).pk)
    with CaptureQueriesContext(connection) as queries:
        message = services.message_send(author=None, conversation=conversation, body="Klima nie chłodzi",
                                        channel="sms")
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if s.startswith("SELECT") and "FROM \"communications_conversation\"" in s]
    assert not [s for s in sql if "\"hvaccrm_district\".\"geometry\"" in s]
    message = Message.objects.select_related("district").get(pk=message.pk)
    assert message.district.slug == "mokotow" and message.conversation_id == conversation.pk


def test_a_conversation_handed_in_is_still_refused_to_an_author_who_may_not_write_in_it(client_anna, bartek_user):
    conversation = ConversationFactory(client=client_anna)
    with pytest.raises(ServiceError):
        services.message_send(author=bartek_user, conversation=conversation, body="Nie moja rozmowa")
    with pytest.raises(ServiceError):  # nor may a text without an author come from the portal
        services.message_send(author=None, conversation=conversation, body="Bez autora")
    assert not Message.objects.exists()


def test_a_conversation_id_that_names_another_conversation_than_the_one_handed_in_is_refused(client_anna):
    one, other = ConversationFactory(client=client_anna), ConversationFactory(client=client_anna)
    with pytest.raises(ValueError, match="different conversations"):
        services.message_send(author=None, conversation_id=other.pk, conversation=one, body="x", channel="sms")
    assert not Message.objects.exists()


def test_the_id_alone_still_works_and_reads_the_conversation(client_anna, anna_user):
    conversation = ConversationFactory(client=client_anna)
    message = services.message_send(author=anna_user, conversation_id=conversation.pk, body="Dzień dobry")
    assert message.conversation_id == conversation.pk and message.district.slug == "mokotow"


def test_the_inbound_read_gives_the_newest_conversation_with_its_job_and_district_and_no_boundary(client_anna):
    from django.utils import timezone

    from communications.services.reads import client_district, conversation_newest
    from hvaccrm.models import District
    from hvaccrm.tests.factories import ServiceJobFactory

    wola = District.objects.get(slug="wola")
    older = ConversationFactory(client=client_anna, last_message_at=timezone.now() - timezone.timedelta(days=1))
    job = ServiceJobFactory(client=client_anna, site=client_anna.sites.first(), district=wola)
    newest = ConversationFactory(client=client_anna, job=job, last_message_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        read = conversation_newest(client_id=client_anna.pk)
        district = read.job.district  # cached with the conversation: no further query
    assert len(queries.captured_queries) == 1 and 'd."geometry",' not in queries.captured_queries[0]["sql"]
    assert read.pk == newest.pk != older.pk and read.job.pk == job.pk and district.slug == "wola"
    assert read.job.description == job.description and read.client_id == client_anna.pk
    message = services.message_send(author=None, conversation=read, body="Klima nie chłodzi", channel="sms")
    assert Message.objects.get(pk=message.pk).district_id == wola.pk  # the job's district, not the site's
    assert client_district(client_id=client_anna.pk).slug == "mokotow" and conversation_newest(client_id=0) is None
