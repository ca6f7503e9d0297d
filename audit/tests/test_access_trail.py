"""The access trail's pages: search by person, object and time; retention; no edit, no delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import access_trail_retention_apply
from hvaccrm.models import AccessRecord
from hvaccrm.services.access import access_record

pytestmark = pytest.mark.django_db


def old_record(days: int, label: str = "old") -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO hvaccrm_accessrecord (actor_label, action, object_type, object_id, purpose, fields, "
            "created_at) VALUES (%s, 'view', 'hvaccrm.client', '1', '', '[]', %s) RETURNING id",
            [label, timezone.now() - timedelta(days=days)])
        return cursor.fetchone()[0]


def test_the_trail_is_searched_by_person_object_and_time(client, administrator, dispatcher, client_anna):
    access_record(actor=dispatcher, action="view", obj=client_anna, subject_client_id=client_anna.pk, purpose="call")
    access_record(actor=administrator, action="export", object_type="hvaccrm.client", object_id=999)
    old_record(40, label="dorota")
    client.force_login(administrator)
    url = reverse("audit:access_trail")
    by_person = client.get(url, {"person": "dorota"})
    assert sorted(r.purpose for r in by_person.context["page"]) == ["", "call"]
    assert "call" in by_person.content.decode()
    by_object = client.get(url, {"object_type": "hvaccrm.client", "object_id": "999"})
    assert [r.object_id for r in by_object.context["page"]] == ["999"]
    today = timezone.localdate().isoformat()
    recent = client.get(url, {"person": "dorota", "since": today})
    assert len(recent.context["page"]) == 1
    api = client.get(reverse("audit-api:access-trail"), {"client": client_anna.pk})
    assert api.status_code == 200 and [r["purpose"] for r in api.json()["results"]] == ["call"]


def test_nobody_can_edit_or_delete_an_entry(dispatcher):
    entry = access_record(actor=dispatcher, action="view", object_type="hvaccrm.client", object_id=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessRecord.objects.filter(pk=entry.pk).update(purpose="covered up")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessRecord.objects.filter(pk=entry.pk).delete()
    assert AccessRecord.objects.get(pk=entry.pk).purpose == ""


def test_deleting_a_persons_account_keeps_their_entries(dispatcher):
    entry = access_record(actor=dispatcher, action="view", object_type="hvaccrm.client", object_id=1)
    dispatcher.delete()
    entry = AccessRecord.objects.get(pk=entry.pk)
    assert entry.actor_id is None and entry.actor_label == "dorota"


def test_retention_deletes_only_entries_past_the_period(dispatcher, settings):
    keep = access_record(actor=dispatcher, action="view", object_type="hvaccrm.client", object_id=1)
    gone = old_record(800)
    assert access_trail_retention_apply(days=730) == 1
    assert list(AccessRecord.objects.values_list("pk", flat=True)) == [keep.pk]
    assert not AccessRecord.objects.filter(pk=gone).exists()


def test_the_admin_offers_no_change_or_delete_of_the_trail(client, administrator, dispatcher):
    entry = access_record(actor=dispatcher, action="view", object_type="hvaccrm.client", object_id=1)
    client.force_login(administrator)
    change = client.post(reverse("admin:hvaccrm_accessrecord_change", args=[entry.pk]), {"purpose": "x"})
    assert change.status_code in (302, 403) or b"purpose" not in change.content
    delete = client.post(reverse("admin:hvaccrm_accessrecord_delete", args=[entry.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert AccessRecord.objects.filter(pk=entry.pk, purpose="").exists()


def test_the_nightly_retention_task_uses_the_configured_period(dispatcher, monkeypatch):
    from audit import conf
    from audit.tasks import access_trail_retention

    monkeypatch.setattr(conf, "ACCESS_TRAIL_RETENTION_DAYS", 30)
    old_record(31)
    keep = old_record(29)
    access_trail_retention.delay()
    assert list(AccessRecord.objects.values_list("pk", flat=True)) == [keep]


def test_the_trail_page_does_not_grow_queries_with_rows(client, administrator, dispatcher, django_assert_max_num_queries):
    client.force_login(administrator)
    url = reverse("audit:access_trail")
    for n in range(40):
        access_record(actor=dispatcher, action="view", object_type="hvaccrm.client", object_id=n)
    with django_assert_max_num_queries(10):
        response = client.get(url, {"person": "dorota"})
    assert len(response.context["page"]) == 40
