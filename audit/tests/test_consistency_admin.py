"""The consistency report's dry run and repair are admin actions on the consistency checks' list:
managers and administrators see the list and run the report, only administrators dry-run and
repair; the dry run changes nothing, the repair repairs and shows its counts."""

from __future__ import annotations

import pytest
from django.test import Client as Http
from django.urls import reverse

from audit import conf
from audit.models import ConsistencyCheck, RepairRecord
from hvaccrm.models import ServiceJob
from hvaccrm.tests.factories import ServiceJobFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = reverse("admin:audit_consistencycheck_changelist")
KIND = "job_without_location"


@pytest.fixture(autouse=True)
def _no_grace(monkeypatch):
    monkeypatch.setattr(conf, "CONSISTENCY_GRACE_SECONDS", 0)


@pytest.fixture
def unlocated_job(client_anna):
    job = ServiceJobFactory(site=client_anna.sites.get(), client=client_anna)
    ServiceJob.objects.filter(pk=job.pk).update(latitude=None, longitude=None, district=None)
    return job


@pytest.fixture
def plain_administrator(db):
    """An administrator by role only (not a superuser): the role, not the flag, opens the repair."""
    return UserFactory(username="adam", role="administrator", is_staff=True)


def _http(user) -> Http:
    http = Http()
    http.force_login(user)
    return http


def _act(http, action: str, **extra):
    ConsistencyCheck.objects.get_or_create(kind=KIND)
    pk = ConsistencyCheck.objects.get(kind=KIND).pk
    return http.post(LIST, {"action": action, "_selected_action": [pk], **extra})


def _actions(http) -> set[str]:
    page = http.get(LIST)
    assert page.status_code == 200
    return {value for value, _label in page.context["action_form"].fields["action"].choices if value}


def test_the_list_has_one_row_per_check_and_only_managers_and_administrators_open_it(
        dispatcher, manager, plain_administrator, anna_user):
    assert _http(dispatcher).get(LIST).status_code == 403
    assert _http(anna_user).get(LIST).status_code in (302, 403)
    assert _actions(_http(manager)) == {"report_run"}
    assert _actions(_http(plain_administrator)) == {"report_run", "repair_dry_run", "repair_run"}
    from audit.consistency import CHECKS_BY_KIND

    assert set(ConsistencyCheck.objects.values_list("kind", flat=True)) == set(CHECKS_BY_KIND)


def test_a_manager_runs_the_report_but_cannot_dry_run_or_repair(manager, unlocated_job):
    http = _http(manager)
    _act(http, "report_run")
    assert ConsistencyCheck.objects.get(kind=KIND).found == 1
    for action in ("repair_dry_run", "repair_run"):
        _act(http, action, post="yes")
    assert ServiceJob.objects.get(pk=unlocated_job.pk).latitude is None and not RepairRecord.objects.exists()


def test_a_dispatcher_cannot_use_the_actions(dispatcher, unlocated_job):
    assert _act(_http(dispatcher), "repair_run", post="yes").status_code == 403
    assert ServiceJob.objects.get(pk=unlocated_job.pk).latitude is None and not RepairRecord.objects.exists()


def test_the_dry_run_shows_the_plan_with_its_counts_and_changes_nothing(plain_administrator, unlocated_job):
    page = _act(_http(plain_administrator), "repair_dry_run")
    assert page.status_code == 200 and 'id="consistency-plan"' in page.content.decode()
    [row] = page.context["rows"]
    assert (row["kind"], row["found"], row["planned"]) == (KIND, 1, 1)
    assert page.context["result"]["planned"][0]["object_id"] == str(unlocated_job.pk)
    assert ServiceJob.objects.get(pk=unlocated_job.pk).latitude is None and not RepairRecord.objects.exists()
    assert ConsistencyCheck.objects.get(kind=KIND).checked_at is None  # not even the counts are written


def test_the_repair_asks_for_confirmation_then_repairs_and_shows_the_results(plain_administrator, unlocated_job):
    http = _http(plain_administrator)
    confirm = _act(http, "repair_run")
    assert 'name="post" value="yes"' in confirm.content.decode()
    assert ServiceJob.objects.get(pk=unlocated_job.pk).latitude is None  # asking changes nothing
    done = _act(http, "repair_run", post="yes")
    assert done.status_code == 200 and 'id="consistency-results"' in done.content.decode()
    [row] = done.context["rows"]
    assert (row["found"], row["repaired"], row["failed"], row["after"]) == (1, 1, 0, 0)
    assert ServiceJob.objects.get(pk=unlocated_job.pk).latitude is not None
    assert RepairRecord.objects.get().actor_label == plain_administrator.username
    check = ConsistencyCheck.objects.get(kind=KIND)
    assert (check.found, check.repaired) == (0, 1) and check.checked_at is not None
    again = _act(http, "repair_run", post="yes")  # idempotent: nothing left to repair
    assert again.context["rows"][0]["repaired"] == 0 and RepairRecord.objects.count() == 1


def test_the_checks_list_makes_a_constant_number_of_queries(manager, django_assert_max_num_queries):
    http = _http(manager)
    http.get(LIST)  # the rows exist from here on
    with django_assert_max_num_queries(12):
        assert http.get(LIST).status_code == 200
