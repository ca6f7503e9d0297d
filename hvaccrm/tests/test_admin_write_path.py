"""Every staff write in the admin goes through the services: generated from the admin registry, so a
new ModelAdmin of the core, communications or mapping is either saved here through its service (and
its outbox rows asserted) or listed as exempt with the reason. Bad input is a form error: nothing
saved, no outbox row."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from hvaccrm.models import AccessRecord, IntegrationLog, IntegrationSwitch, ServiceJob
from hvaccrm.services import job_create
from hvaccrm.tests.factories import EquipmentFactory, TechnicianFactory, district

APPS = ("hvaccrm", "communications", "mapping")
JOB_UPDATED = {("notifications", "job.updated"), ("map", "job.updated")}

# Admins that write nothing themselves (read-only pages whose actions call services) or whose rows
# are not the office's to write; each with the reason.
EXEMPT = {
    "hvaccrm.JobFeedback": "read-only: written by the client through job_feedback_give",
    "hvaccrm.Consent": "read-only: a consent is the client's own act (consent_set in the portal)",
    "hvaccrm.IntegrationLog": "read-only log; its action calls outbox_retry",
    "hvaccrm.AccessRecord": "read-only trail (append-only by design)",
    "communications.Message": "read-only: messages are written by message_send on the inbox page",
    "communications.Notification": "read-only: written by the notification engine",
    "communications.Delivery": "read-only; its action calls delivery_retry",
    "communications.EmergencyAlert": "read-only; its action calls alert_escalate",
    "communications.TriageCorrection": "written by message_urgency_correct (the inbox, the Message admin's actions)",
    "communications.InboundThread": "read-only: written by the inbound webhooks; its action links it to a client",
    "communications.Conversation": "opened by conversation_start (inbox, portal); the admin links to the inbox",
    "mapping.Route": "read-only: written by day_plan",
    "mapping.DayPlan": "read-only; its action calls day_plan",
    "mapping.SlotProposal": "read-only; its action calls slot_accept",
    "mapping.LocationPing": "read-only: written by location_ping_ingest",
    "hvaccrm.Agreement": "part I's maintenance agreements: their admin and services are tested by docs/maintenance.md's tests",
    "hvaccrm.RefrigerantRecord": "the F-gas register: written by the completion service (visit_close), part I",
}


class _FormFields(HTMLParser):
    """What a browser would post from the admin page's form (inputs, selects, textareas)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value") or ("on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] = [self.data[self._textarea][0] + data]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _form_data(client, url: str) -> dict[str, list[str]]:
    page = client.get(url)
    assert page.status_code == 200, url
    parser = _FormFields()
    parser.feed(page.content.decode())
    data = {k: v for k, v in parser.data.items() if k not in ("csrfmiddlewaretoken", "q", "language", "next")}
    for k, v in data.items():  # textarea content starts with the newline Django adds
        data[k] = [x[1:] if x.startswith("\n") else x for x in v]
    return data


def _outbox_since(last_id: int) -> set[tuple[str, str]]:
    return set(IntegrationLog.objects.filter(pk__gt=last_id).values_list("target", "kind"))


def _last_log_id() -> int:
    return IntegrationLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture
def samples(client_anna, technician_mokotow):
    """For each admin saved through its service: the object, the change made, the outbox rows."""
    site = client_anna.sites.get()
    unit = EquipmentFactory(site=site)
    job = job_create(site=site, service_type="repair", description="Nie chłodzi")
    switch = IntegrationSwitch.objects.create(target="prophecy", enabled=True)
    # By name: the core's tests import no app (import-linter).
    pref = apps.get_model("communications", "NotificationPreference").objects.create(user=technician_mokotow.user, channels=["in_app"])
    return {
        "hvaccrm.Client": (client_anna, {"name": "Anna Kowalska-Nowak"}, set()),
        "hvaccrm.Site": (site, {"label": "Dom"}, set()),
        "hvaccrm.Equipment": (unit, {"brand": "Mitsubishi"}, set()),
        "hvaccrm.Technician": (technician_mokotow, {"phone": "+48 601 999 999"}, set()),
        "hvaccrm.ServiceJob": (job, {"technician": str(technician_mokotow.pk), "reason": "phone call"}, JOB_UPDATED),
        "hvaccrm.IntegrationSwitch": (switch, {"reason": "maintenance window"}, set()),
        "hvaccrm.District": (district("wesola"), {"weight": "1.3", "reason": "new estates"}, set()),
        "communications.NotificationPreference": (pref, {"channels": '["in_app", "email"]'}, set()),
    }


@pytest.mark.django_db(transaction=False)
def test_every_registered_admin_saves_through_its_service_or_is_exempt_with_a_reason(client, administrator, samples):
    client.force_login(administrator)
    registered = {m._meta.label for m in admin.site._registry if m._meta.app_label in APPS}
    unlisted = registered - set(samples) - set(EXEMPT)
    assert not unlisted, f"new admins: save one in `samples` (with its outbox rows) or exempt it with a reason: {unlisted}"
    assert all(reason.strip() for reason in EXEMPT.values())
    for label, (obj, change, expected_outbox) in samples.items():
        opts = obj._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        data = _form_data(client, url)
        data.update({k: v if isinstance(v, list) else [v] for k, v in change.items()})
        before, trail_before = _last_log_id(), AccessRecord.objects.count()
        response = client.post(url, {**data, "_save": "Save"})
        assert response.status_code == 302, (label, getattr(response, "context_data", {}).get("errors"))
        obj.refresh_from_db()
        assert _outbox_since(before) == expected_outbox, label
        if label in ("hvaccrm.Client", "hvaccrm.Site", "hvaccrm.Equipment", "hvaccrm.District"):  # a job: its history
            assert AccessRecord.objects.count() > trail_before, f"{label}: the change leaves no trail row"


def test_a_job_added_in_the_admin_with_a_technician_is_created_and_scheduled_through_the_services(
        client, dispatcher_admin, client_anna, technician_mokotow):
    client.force_login(dispatcher_admin)
    url = reverse("admin:hvaccrm_servicejob_add")
    data = _form_data(client, url)
    start = timezone.localtime() + timedelta(days=1)
    data.update(site=str(client_anna.sites.get().pk), service_type="repair", description="Telefon: nie grzeje",
                technician=str(technician_mokotow.pk), scheduled_start_0=start.strftime("%Y-%m-%d"),
                scheduled_start_1="10:00:00", scheduled_end_0=start.strftime("%Y-%m-%d"), scheduled_end_1="12:00:00",
                reason="phone booking")
    before = _last_log_id()
    response = client.post(url, {**data, "_save": "Save"})
    assert response.status_code == 302, response.context_data.get("errors") if response.context_data else response
    job = ServiceJob.objects.get(description="Telefon: nie grzeje")
    assert job.status == "scheduled" and job.technician == technician_mokotow and job.client == client_anna
    assert job.pinned_at is not None and job.pinned_by == dispatcher_admin
    assert {("map", "job.created"), ("notifications", "job.created")} <= _outbox_since(before)


@pytest.fixture
def dispatcher_admin(dispatcher):
    """The dispatcher persona with the office's model permissions."""
    from django.contrib.auth.models import Permission

    dispatcher.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=APPS))
    return dispatcher


def _refused(response, field: str) -> None:
    assert response.status_code == 200
    errors = response.context_data["adminform"].form.errors
    assert field in errors or "__all__" in errors, errors


def test_a_window_that_ends_before_it_starts_is_a_form_error_and_nothing_is_saved(client, administrator, client_anna):
    client.force_login(administrator)
    url = reverse("admin:hvaccrm_servicejob_add")
    data = _form_data(client, url)
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    data.update(site=str(client_anna.sites.get().pk), service_type="repair", description="Okno odwrotne",
                requested_start_0=day, requested_start_1="14:00:00", requested_end_0=day, requested_end_1="10:00:00")
    before, jobs = _last_log_id(), ServiceJob.objects.count()
    _refused(client.post(url, {**data, "_save": "Save"}), "requested_end")
    assert ServiceJob.objects.count() == jobs and _outbox_since(before) == set()


def test_a_site_outside_warsaw_is_a_form_error_and_nothing_is_saved(client, administrator, client_anna):
    client.force_login(administrator)
    site = client_anna.sites.get()
    url = reverse("admin:hvaccrm_site_change", args=[site.pk])
    data = _form_data(client, url)
    data.update(latitude="50.0614", longitude="19.9366")  # Kraków
    before = _last_log_id()
    _refused(client.post(url, {**data, "_save": "Save"}), "latitude")
    site.refresh_from_db()
    assert (site.latitude, site.district) == (52.1930, district("mokotow")) and _outbox_since(before) == set()


def test_an_illegal_status_move_is_a_form_error_and_nothing_is_saved(client, administrator, client_anna):
    client.force_login(administrator)
    job = job_create(site=client_anna.sites.get(), service_type="repair", description="x")
    url = reverse("admin:hvaccrm_servicejob_change", args=[job.pk])
    data = _form_data(client, url)
    data.update(status="completed")
    before = _last_log_id()
    _refused(client.post(url, {**data, "_save": "Save"}), "status")
    job.refresh_from_db()
    assert job.status == "new" and _outbox_since(before) == set()


def test_reassigning_in_the_admin_tells_the_client_and_both_technicians_routes(client, dispatcher_admin, client_anna):
    first, second = TechnicianFactory(), TechnicianFactory()
    job = job_create(site=client_anna.sites.get(), service_type="repair", description="x")
    from hvaccrm.services import job_assign

    job_assign(job=job, technician=first)
    client.force_login(dispatcher_admin)
    url = reverse("admin:hvaccrm_servicejob_change", args=[job.pk])
    data = _form_data(client, url)
    data.update(technician=str(second.pk), reason="Marek is ill")
    before = _last_log_id()
    assert client.post(url, {**data, "_save": "Save"}).status_code == 302
    rows = IntegrationLog.objects.filter(pk__gt=before, kind="job.updated")
    assert {r.target for r in rows} == {"notifications", "map"}
    assert all(r.payload["technician"] == second.pk and r.payload["previous_technician"] == first.pk for r in rows)
    job.refresh_from_db()
    assert job.technician == second and job.pinned_by == dispatcher_admin


def test_cancel_is_an_admin_action_with_a_reason_asked_on_its_own_page(client, dispatcher_admin, client_anna):
    job = job_create(site=client_anna.sites.get(), service_type="repair", description="x")
    client.force_login(dispatcher_admin)
    url = reverse("admin:hvaccrm_servicejob_changelist")
    page = client.post(url, {"action": "cancel_jobs", "_selected_action": [job.pk]})
    assert page.status_code == 200 and b'name="reason"' in page.content
    job.refresh_from_db()
    assert job.status == "new"  # nothing happens before the reason is given
    before = _last_log_id()
    done = client.post(url, {"action": "cancel_jobs", "_selected_action": [job.pk], "apply": "1",
                             "reason": "the client called it off"})
    assert done.status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled" and JOB_UPDATED <= _outbox_since(before)


def test_the_job_page_shows_its_history_with_who_and_why_and_eta_moves_are_left_out(client, dispatcher_admin,
                                                                                    client_anna):
    from hvaccrm.selectors import job_history
    from hvaccrm.services import job_assign, job_eta_set

    job = job_create(site=client_anna.sites.get(), service_type="repair", description="x")
    job_assign(job=job, technician=TechnicianFactory(), actor=dispatcher_admin, reason="closest free hand")
    job_eta_set(job=job, eta=timezone.now() + timedelta(hours=1))  # queryset.update(): the triggers see it
    history = job_history(job_id=job.pk)
    assert [h["label"] for h in history] == ["insert", "update", "update"]  # the ETA left no row
    assert history[-1]["actor"] == dispatcher_admin.pk and history[-1]["reason"] == "closest free hand"
    assert "status" in history[-1]["changes"]
    safe = job_history(job_id=job.pk, client_safe=True)
    assert all(set(h) == {"at", "label", "changes"} for h in safe)
    client.force_login(dispatcher_admin)
    page = client.get(reverse("admin:hvaccrm_servicejob_change", args=[job.pk])).content.decode()
    assert "closest free hand" in page and "dorota" in page
