"""The core's reads."""

from __future__ import annotations

from django.db.models import QuerySet

from hvaccrm.models import Client, ServiceJob, Technician
from hvaccrm.models.jobs import OPEN_STATUSES
from hvaccrm.realtime.groups import is_staff_role

STAFF_ROLES = ("dispatcher", "manager", "administrator")


def user_is_office(user) -> bool:
    return is_staff_role(user, *STAFF_ROLES)


def client_list_for_user(*, user) -> QuerySet[Client]:
    if not user.is_authenticated:
        return Client.objects.none()
    return Client.objects.filter(users=user)


def job_list_visible(*, user) -> QuerySet[ServiceJob]:
    qs = ServiceJob.objects.select_related("district", "technician__user")
    if user_is_office(user):
        return qs
    tech = getattr(user, "technician", None) if hasattr(user, "technician") else None
    if tech is not None:
        return qs.filter(technician=tech)
    return qs.filter(client__users=user)


def technician_list_on_shift(*, district_slug: str | None = None,
                             include_private: bool = False) -> QuerySet[Technician]:
    """Active technicians on shift; without those in private mode unless asked, because routing,
    alerts and position checks cannot count on a technician whose position is private."""
    qs = Technician.objects.filter(active=True, on_shift=True).select_related("user", "home_district")
    if not include_private:
        qs = qs.filter(private_mode=False)
    if district_slug:
        qs = qs.filter(home_district__slug=district_slug)
    return qs


def job_list_open(*, district_slug: str | None = None) -> QuerySet[ServiceJob]:
    qs = ServiceJob.objects.filter(status__in=OPEN_STATUSES).select_related("district", "site", "technician")
    if district_slug:
        qs = qs.filter(district__slug=district_slug)
    return qs
