"""The client's rights over their data: correction, export, consents, erasure (RODO / GDPR)."""

from __future__ import annotations

import json

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from hvaccrm.models import AccessRecord, Client, Consent, JobFeedback, ServiceJob
from hvaccrm.privacy import pseudonym
from portal import selectors, services
from portal.models import ErasureRequest
from portal.tests.factories import EquipmentFactory, ServiceJobFactory, next_weekday, window_key

pytestmark = pytest.mark.django_db


def test_a_client_corrects_their_contact_data_and_the_change_is_recorded(anna_http, client_anna):
    response = anna_http.post(reverse("portal:contact"), {
        "name": "Anna Kowalska-Nowicka", "email": "anna.k@example.com", "phone": "+48 501 234 567",
        "billing_address": "ul. Różana 17, 02-548 Warszawa", "preferred_language": "en"})
    assert response.status_code == 302
    client_anna.refresh_from_db()
    assert client_anna.name == "Anna Kowalska-Nowicka" and client_anna.preferred_language == "en"
    record = AccessRecord.objects.filter(subject_client_id=client_anna.pk, action="change").latest("id")
    assert set(record.fields) == {"name", "email", "phone", "billing_address", "preferred_language"}


def test_invalid_contact_data_is_shown_by_the_field_and_nothing_changes(anna_http, client_anna):
    response = anna_http.post(reverse("portal:contact"), {"name": "", "email": "not-an-email", "phone": "abc",
                                                          "billing_address": "", "preferred_language": "pl"})
    assert response.status_code == 400
    assert {"name", "email"} <= set(response.context["form"].errors)
    client_anna.refresh_from_db()
    assert client_anna.name == "Anna Kowalska"


def test_consents_are_appended_never_edited_and_their_history_is_shown(anna_http, client_anna):
    for granted in ("1", "0", "0", "1"):
        anna_http.post(reverse("portal:consents"), {"purpose": "marketing_sms", "granted": granted})
    ledger = list(Consent.objects.filter(client=client_anna).order_by("id").values_list("granted", "channel"))
    assert ledger == [(True, "portal"), (False, "portal"), (True, "portal")]  # no entry for a non-change
    page = anna_http.get(reverse("portal:consents"))
    assert len(page.context["history"]) == 3
    state = {r["purpose"]: r["entry"] for r in page.context["rows"]}
    assert state["marketing_sms"].granted is True and state["marketing_email"] is None


def _populate(client, technician=None):
    unit = EquipmentFactory(site=client.sites.first(), serial_number=f"SN-{client.pk}")
    job = ServiceJobFactory(site=client.sites.first(), equipment=unit, status="completed",
                            completed_at=timezone.now(), description=f"Opis klienta {client.name}")
    JobFeedback.objects.create(job=job, client=client, rating=4, comment=f"Komentarz {client.name}")
    Consent.objects.create(client=client, purpose="service_notifications", granted=True, channel="portal", text_version="1")
    return unit, job


def test_the_export_holds_all_of_the_clients_data_and_nobody_elses(anna_http, client_anna, client_bartek):
    a_unit, a_job = _populate(client_anna)
    b_unit, b_job = _populate(client_bartek)
    services.booking_create(user=client_anna.users.get(), site_id=client_anna.sites.first().pk, service_type="maintenance",
                            description="Przegląd", window_keys=[window_key(next_weekday(4))])
    response = anna_http.get(reverse("portal:export_json"))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    data = response.json()
    assert data["client"]["name"] == "Anna Kowalska" and data["client"]["email"] == "anna@example.com"
    assert [s["id"] for s in data["sites"]] == list(client_anna.sites.values_list("pk", flat=True))
    assert [e["id"] for e in data["equipment"]] == [a_unit.pk]
    assert {v["id"] for v in data["visits"]} == set(ServiceJob.objects.filter(client=client_anna).values_list("pk", flat=True))
    assert len(data["visits"]) == 2 and any(v["preferred_windows"] for v in data["visits"])
    assert [f["comment"] for f in data["feedback"]] == ["Komentarz Anna Kowalska"]
    assert len(data["consents"]) == 1 and data["portal_users"][0]["email"] == "anna@example.com"
    assert "communications" in data
    text = json.dumps(data, ensure_ascii=False)
    for foreign in ("Bartek", "bartek@example.com", f"SN-{client_bartek.pk}", str(client_bartek.sites.first().street)):
        assert foreign not in text
    assert AccessRecord.objects.filter(subject_client_id=client_anna.pk, action="export").exists()
    page = anna_http.get(reverse("portal:export"))
    assert page.status_code == 200 and "Komentarz Anna Kowalska" in page.content.decode()
    assert "Bartek" not in page.content.decode()


def test_an_erasure_request_is_recorded_once_and_shown(anna_http, client_anna):
    assert anna_http.post(reverse("portal:erasure"), {"reason": ""}).status_code == 200  # confirmation required
    for _ in range(2):
        anna_http.post(reverse("portal:erasure"), {"confirm": "on", "reason": "Przeprowadzam się"})
    assert ErasureRequest.objects.filter(client_id=client_anna.pk, state="requested").count() == 1
    assert anna_http.get(reverse("portal:privacy")).context["open_request"] is not None


def _text_columns() -> list[tuple[str, str, str]]:
    with connection.cursor() as cur:
        cur.execute("""
            SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
            WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
              AND c.data_type IN ('character varying', 'text', 'jsonb', 'json', 'character')""")
        return cur.fetchall()


def database_scan(values: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, value) where a value still occurs, case-insensitively, in any text column."""
    hits = []
    with connection.cursor() as cur:
        for table, column, _ in _text_columns():
            for value in values:
                cur.execute(f'SELECT 1 FROM "{table}" WHERE "{column}"::text ILIKE %s LIMIT 1', [f"%{value}%"])  # noqa: S608 - names from the catalogue
                if cur.fetchone():
                    hits.append((table, column, value))
    return hits


def test_after_erasure_no_personal_value_of_the_client_is_left_in_the_database(
        client_anna, client_bartek, anna_user, administrator, technician_mokotow, django_capture_on_commit_callbacks):
    Client.objects.filter(pk=client_anna.pk).update(phone="+48 501 234 567", billing_address="ul. Różana 17, 02-548 Warszawa",
                                                    notes="Klucz u sąsiadki Haliny")
    client_anna.sites.update(street="ul. Różana 17", label="Mieszkanie Anny")
    anna_user.first_name, anna_user.last_name = "Anna", "Kowalska"
    anna_user.username = "client-0a1b2c"  # as invited: pseudonymous (the access trail keeps it)
    anna_user.save()
    unit, job = _populate(client_anna)
    job.report = {"notes": "Pani Anna Kowalska prosiła o telefon", "refrigerant_added_kg": 0.3}
    job.save(update_fields=["report"])
    http = HttpClient()
    http.post(reverse("portal:login"), {"username": "anna@example.com", "password": "Correct-Horse-42"})
    http.post(reverse("portal:login"), {"username": "anna@example.com", "password": "wrong"})  # axes keeps the username
    with django_capture_on_commit_callbacks(execute=True):
        booked, _ = services.booking_create(user=anna_user, site_id=client_anna.sites.first().pk, service_type="repair",
                                            description="Kapie woda u Anny Kowalskiej, tel. 501 234 567",
                                            window_keys=[window_key(next_weekday(4))])
    http.get(reverse("portal:export_json"))
    with django_capture_on_commit_callbacks(execute=True):
        http.post(reverse("portal:messages"), {"body": "Czuć gaz w mieszkaniu Anny Kowalskiej, kod do bramy 4431"})
    LogEntry.objects.create(user_id=administrator.pk, content_type_id=ContentType.objects.get_for_model(Client).pk,
                            object_id=str(client_anna.pk), object_repr="Anna Kowalska", action_flag=CHANGE,
                            change_message="Changed phone for Anna Kowalska")
    b_unit, b_job = _populate(client_bartek)
    personal = ["Anna Kowalska", "anna@example.com", "501 234 567", "Różana 17", "Mieszkanie Anny", "Kapie woda u Anny",
                "Komentarz Anna", "Klucz u sąsiadki", f"SN-{client_anna.pk}", "Opis klienta Anna", "kod do bramy 4431",
                "Anny Kowalskiej"]
    assert database_scan(personal), "the scan must see the values before the erasure"
    from communications.models import Message
    from prophecy.selectors import vector_exists

    before = [(t, str(pk)) for t, pk in [("communications.message", m) for m in Message.objects.filter(
        conversation__client=client_anna, author_role="client").values_list("pk", flat=True)]]
    assert before and all(vector_exists(object_type=t, object_id=i) for t, i in before), "vectors exist before"

    anna_http = HttpClient()
    anna_http.force_login(anna_user)
    anna_http.post(reverse("portal:erasure"), {"confirm": "on", "reason": "Proszę usunąć dane Anny Kowalskiej"})
    request = ErasureRequest.objects.get(client_id=client_anna.pk)
    admin = HttpClient()
    admin.force_login(administrator)
    # After commit the outbox sends the erasure notice, the address's last use; its delivery then
    # forgets the address (until it is sent, that delivery is the one place the address is kept).
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("admin:portal_erasurerequest_changelist"),
                              {"action": "execute", "_selected_action": [request.pk]})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == "executed" and request.executed_by == administrator

    assert database_scan(personal) == []
    # ...and the vector store (embedded: vectors in PostgreSQL, scanned above; any backend: by id).
    objects = [("hvaccrm.servicejob", str(j)) for j in ServiceJob.objects.filter(client=client_anna).values_list("pk", flat=True)]
    objects += [("communications.message", str(m)) for m in Message.objects.filter(conversation__client=client_anna).values_list("pk", flat=True)]
    objects += [("hvaccrm.jobfeedback", str(f)) for f in JobFeedback.objects.filter(client=client_anna).values_list("pk", flat=True)]
    assert objects and not [o for o in objects if vector_exists(object_type=o[0], object_id=o[1])]
    # Retained, pseudonymised: the jobs (accounting) and the unit with its refrigerant (F-gas register).
    client_anna.refresh_from_db()
    assert client_anna.name == pseudonym(client_anna.pk) and client_anna.anonymised_at
    assert ServiceJob.objects.filter(client=client_anna).count() == 2
    unit.refresh_from_db()
    assert unit.refrigerant == "R32" and unit.refrigerant_charge_kg
    job.refresh_from_db()
    assert job.report == {"refrigerant_added_kg": 0.3} and job.status == "completed"
    assert Consent.objects.filter(client=client_anna).count() == 1
    # Nobody can sign in as the erased client any more.
    assert HttpClient().post(reverse("portal:login"), {"username": "anna@example.com", "password": "Correct-Horse-42"}).status_code == 200
    assert anna_http.get(reverse("portal:home")).status_code == 302
    # Bartek is untouched.
    client_bartek.refresh_from_db()
    assert client_bartek.name == "Bartek Nowak" and JobFeedback.objects.get(job=b_job).comment == "Komentarz Bartek Nowak"
    # The retained records are listed with their reason and retention.
    listed = selectors.retained_records(client_id=client_anna.pk)
    assert {r["key"] for r in listed} == {"jobs", "equipment", "consents", "trail", "erasure"}
    assert all(r["reason"] and r["retention"] for r in listed)
    assert AccessRecord.objects.filter(subject_client_id=client_anna.pk, action="erase").exists()


def test_erasure_twice_is_refused_and_changes_nothing_more(client_anna, administrator):
    req = ErasureRequest.objects.create(client_id=client_anna.pk)
    services.erasure_execute(request_id=req.pk, actor=administrator)
    from hvaccrm.errors import ServiceError

    with pytest.raises(ServiceError):
        services.erasure_execute(request_id=req.pk, actor=administrator)
    assert services.client_erase(client_id=client_anna.pk, actor=administrator)["client"] == client_anna.pk


def test_the_privacy_pages_list_the_retained_records(anna_http, client):
    page = anna_http.get(reverse("portal:privacy"))
    assert page.status_code == 200 and len(page.context["retained"]) == 5
    public = client.get(reverse("portal:retention"))
    assert public.status_code == 200 and "2024/573" in public.content.decode()


def test_an_erasure_request_tells_the_managers_and_the_execution_confirms_by_e_mail(
        anna_http, client_anna, manager, administrator, django_capture_on_commit_callbacks):
    from django.core import mail

    from communications.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        anna_http.post(reverse("portal:erasure"), {"confirm": "on"})
    request = ErasureRequest.objects.get(client_id=client_anna.pk)
    assert Notification.objects.filter(recipient=manager, kind="portal.erasure_requested",
                                       related_id=str(request.pk)).exists()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.erasure_execute(request_id=request.pk, actor=administrator)
    assert [m.to for m in mail.outbox] == [["anna@example.com"]]
    assert "2024/573" in mail.outbox[0].body
