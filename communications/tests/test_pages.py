"""The office inbox pages and the admin changelists (query counts, unread counts, retry action)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from communications import services
from communications.models import Delivery, Message
from communications.tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, dispatcher):
    client.force_login(dispatcher)
    return client


@pytest.fixture
def conversations(client_anna, anna_user):
    convs = []
    for i in range(5):
        conv = ConversationFactory(client=client_anna, subject=f"Rozmowa {i}")
        services.message_send(author=anna_user, conversation_id=conv.pk, body=f"Wiadomość {i}")
        convs.append(conv)
    return convs


def test_the_inbox_lists_conversations_with_unread_counts_in_few_queries(office, conversations,
                                                                          django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        r = office.get(reverse("communications:inbox"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "Rozmowa 4" in html and "communications/inbox.js" in html and 'data-ws-path="/ws/"' in html


def test_a_client_cannot_open_the_inbox(client, anna_user):
    client.force_login(anna_user)
    r = client.get(reverse("communications:inbox"))
    assert r.status_code in (302, 403)


def test_the_office_replies_from_the_conversation_page(office, conversations, dispatcher):
    conv = conversations[0]
    r = office.post(reverse("communications:conversation", args=[conv.pk]), {"body": "Przyjedziemy jutro"})
    assert r.status_code == 302
    assert Message.objects.filter(conversation=conv, author=dispatcher, body="Przyjedziemy jutro").exists()
    office.post(reverse("communications:conversation", args=[conv.pk]), {"action": "read"})
    from communications.selectors import conversation_list_with_unread

    assert conversation_list_with_unread().get(pk=conv.pk).unread == 0
    assert "Przyjedziemy jutro" in office.get(reverse("communications:conversation", args=[conv.pk])).content.decode()


@pytest.mark.parametrize("model", ["conversation", "message", "notification", "delivery", "emergencyalert",
                                   "notificationpreference"])
def test_admin_changelists_load_in_a_bounded_number_of_queries(client, administrator, conversations, anna_user, model,
                                                                django_assert_max_num_queries):
    for _ in range(5):
        services.notify(user_ids=[anna_user.pk], spec=services.NotificationSpec(kind="t", title="x", body="y"))
    services.emergency_dispatch(message_id=None, job_id=None, district_slug="mokotow", text="gaz", dedupe_key="a")
    client.force_login(administrator)
    with django_assert_max_num_queries(20):
        r = client.get(reverse(f"admin:communications_{model}_changelist"))
    assert r.status_code == 200


def test_the_admin_retry_action_requeues_dead_deliveries(client, administrator, anna_user):
    [nid] = services.notify(user_ids=[anna_user.pk], spec=services.NotificationSpec(kind="t", title="x", body="y"))
    d = Delivery.objects.get(notification_id=nid, channel="email")
    Delivery.objects.filter(pk=d.pk).update(state="dead", last_error="boom")
    client.force_login(administrator)
    r = client.post(reverse("admin:communications_delivery_changelist"),
                    {"action": "retry_deliveries", "_selected_action": [d.pk]})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.state == "pending"


def test_the_inbox_reads_neither_district_boundaries_nor_the_conversations_jobs(office, conversations):
    """The alerts show their district's name and the rows the client's: a boundary (kilobytes of
    GeoJSON decoded per row) or a job's columns would be CPU spent on nothing (issue 21)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from communications.models import EmergencyAlert
    from hvaccrm.models import District

    district = District.objects.first()
    EmergencyAlert.objects.create(district=district, text="Czuć gaz", dedupe_key="inbox-cost",
                                  escalate_at=timezone.now())
    with CaptureQueriesContext(connection) as ctx:
        html = office.get(reverse("communications:inbox")).content.decode()
    assert "Czuć gaz" in html and district.name in html and "Rozmowa 4" in html
    sql = [q["sql"] for q in ctx.captured_queries]
    assert not [s for s in sql if '"hvaccrm_district"."geometry"' in s]
    assert not [s for s in sql if "communications_conversation" in s and '"hvaccrm_servicejob"."description"' in s]
