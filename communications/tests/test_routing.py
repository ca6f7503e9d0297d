"""Routing of emergencies: district match, skipped technicians, nearest first, fallback, escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from communications import services
from communications.models import AlertDecision, EmergencyAlert, Notification
from hvaccrm.tests.factories import TechnicianFactory, UserFactory, district

pytestmark = pytest.mark.django_db


def _tech(slug: str, *, lat=None, lng=None, **kw):
    return TechnicianFactory(home_district=district(slug), last_latitude=lat, last_longitude=lng, **kw)


def _dispatch(slug: str | None = "mokotow", key: str = "k1", text: str = "Czuć gaz w kuchni"):
    return services.emergency_dispatch(message_id=None, job_id=None, district_slug=slug, text=text, dedupe_key=key)


def test_an_emergency_goes_to_the_on_shift_technicians_of_its_district_nearest_first():
    far = _tech("mokotow", lat=52.16, lng=21.05)
    near = _tech("mokotow", lat=52.19, lng=21.02)
    unknown = _tech("mokotow")
    other = _tech("wola", lat=52.19, lng=21.02)
    result = _dispatch()
    assert result["recipients"] == [near.user_id, far.user_id, unknown.user_id]
    assert other.user_id not in result["recipients"]
    ranks = list(AlertDecision.objects.filter(step="routed").order_by("rank").values_list("technician_id", flat=True))
    assert ranks == [near.pk, far.pk, unknown.pk]


def test_off_shift_and_private_mode_technicians_are_skipped_and_the_reason_recorded():
    on = _tech("mokotow")
    off = _tech("mokotow", on_shift=False)
    private = _tech("mokotow", private_mode=True)
    result = _dispatch()
    assert result["recipients"] == [on.user_id]
    skipped = dict(AlertDecision.objects.filter(step="skipped").values_list("technician_id", "reason"))
    assert skipped == {off.pk: "off shift", private.pk: "private mode"}


def test_with_no_technician_in_the_district_the_dispatcher_is_told(dispatcher):
    _tech("mokotow", on_shift=False)
    result = _dispatch()
    assert result["recipients"] == [dispatcher.pk]
    assert AlertDecision.objects.filter(step="fallback").exists()
    n = Notification.objects.get(recipient=dispatcher)
    assert n.priority == "emergency" and n.kind == "emergency.alert"


def test_managers_are_told_of_every_emergency(manager):
    _tech("mokotow")
    _dispatch()
    assert Notification.objects.filter(recipient=manager, kind="emergency.alert").count() == 1


def test_dispatching_twice_with_the_same_key_routes_once():
    tech = _tech("mokotow")
    first = _dispatch()
    second = _dispatch()
    assert second["alert"] == first["alert"] and second["duplicate"]
    assert Notification.objects.filter(recipient_id=tech.user_id).count() == 1


def _time_out(alert_id: int) -> None:
    EmergencyAlert.objects.filter(pk=alert_id).update(escalate_at=timezone.now() - timedelta(seconds=1))


def test_an_unaccepted_alert_escalates_to_the_neighbours_then_the_dispatcher_after_each_timeout(dispatcher):
    home = _tech("mokotow")
    neighbour_slug = district("mokotow").neighbours.order_by("slug").first().slug
    neighbour = _tech(neighbour_slug)
    far_away = _tech("bialoleka")
    result = _dispatch()
    assert services.escalation_sweep() == 0  # not due yet
    _time_out(result["alert"])
    assert services.escalation_sweep() == 1
    alert = EmergencyAlert.objects.get(pk=result["alert"])
    assert alert.state == "escalated" and alert.step == 1
    told = set(Notification.objects.filter(related_id=str(alert.pk)).values_list("recipient_id", flat=True))
    assert {home.user_id, neighbour.user_id} <= told and dispatcher.pk not in told
    assert far_away.user_id not in told
    assert services.escalation_sweep() == 0
    _time_out(alert.pk)
    assert services.escalation_sweep() == 1
    told = set(Notification.objects.filter(related_id=str(alert.pk)).values_list("recipient_id", flat=True))
    assert dispatcher.pk in told and EmergencyAlert.objects.get(pk=alert.pk).step == 2


def test_an_acknowledged_alert_still_escalates_only_an_accept_stops_the_chain():
    tech = _tech("mokotow")
    neighbour = _tech(district("mokotow").neighbours.order_by("slug").first().slug)
    result = _dispatch()
    n = Notification.objects.get(recipient_id=tech.user_id)
    services.notification_ack(user=tech.user, notification_id=n.pk)
    alert = EmergencyAlert.objects.get(pk=result["alert"])
    assert alert.state == "open" and alert.acknowledged_by_id == tech.user_id
    _time_out(alert.pk)
    assert services.escalation_sweep() == 1
    services.alert_accept(alert_id=alert.pk, user=neighbour.user)
    _time_out(alert.pk)
    assert services.escalation_sweep() == 0


def test_the_district_comes_from_the_message_when_not_given(client_anna):
    from communications.tests.factories import ConversationFactory

    tech = _tech("mokotow")
    conv = ConversationFactory(client=client_anna)
    user = client_anna.users.get()
    message = services.message_send(author=user, conversation_id=conv.pk, body="Czuć gaz przy piecu!")
    assert message.urgency == "emergency" and message.district.slug == "mokotow"
    result = services.emergency_dispatch(message_id=message.pk, job_id=None, district_slug=None, text=message.body,
                                         dedupe_key="m1")
    assert result["recipients"] == [tech.user_id]


def test_a_staff_user_without_roles_is_never_a_fallback_recipient():
    UserFactory(username="nobody")
    result = _dispatch(slug="wesola")
    assert result["recipients"] == []
    assert AlertDecision.objects.filter(step="fallback").exists()


def test_an_emergency_message_reaches_the_districts_technicians_through_the_outbox(client_anna, manager):
    """The production path: message saved -> its emergency.alert outbox row -> the handler the integration
    layer registered -> emergency_dispatch. (The handler is looked up, not imported: import-linter.)"""
    from communications.tests.factories import ConversationFactory
    from hvaccrm.models import IntegrationLog
    from hvaccrm.services.outbox import outbox_process

    tech = _tech("mokotow", lat=52.19, lng=21.02)
    conv = ConversationFactory(client=client_anna)
    message = services.message_send(author=client_anna.users.get(), conversation_id=conv.pk,
                                     body="Awaria klimatyzacji w biurze na Mokotowie, leje się woda z jednostki")
    row = IntegrationLog.objects.get(kind="emergency.alert", object_id=str(message.pk))
    assert outbox_process(log_id=row.pk) == "succeeded"
    alert = EmergencyAlert.objects.get(message=message)
    assert alert.district.slug == "mokotow"
    assert Notification.objects.filter(recipient_id=tech.user_id, related_id=str(alert.pk)).exists()
    assert Notification.objects.filter(recipient=manager, related_id=str(alert.pk)).exists()
    row.refresh_from_db()
    assert outbox_process(log_id=row.pk) == "succeeded"  # a second run changes nothing
    assert EmergencyAlert.objects.filter(message=message).count() == 1
