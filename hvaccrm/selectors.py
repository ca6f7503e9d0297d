"""The core's reads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hvaccrm.models import Client, Equipment, ServiceJob, Technician
from hvaccrm.models.clients import F_GASES
from hvaccrm.models.jobs import OPEN_STATUSES, ServiceJobEvent
from hvaccrm.models.technicians import FgasCategory
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


# --- F-gas certificates --------------------------------------------------------------------------

# Category II and III certificates cover intrusive work only on circuits below this charge
# (Regulation (EU) 2015/2067, art. 3(2)-(3); the 3 kg of the rule, 6 kg for hermetic units aside).
SMALL_CIRCUIT_KG = Decimal("3")
LEAK_CHECK = "leak_check"  # non-intrusive: a leak check only
SERVICE = "service"  # installation, repair, maintenance, recovery: the circuit is opened


class Verdict(NamedTuple):
    ok: bool
    reason: str = ""


def refrigerant_work_needed(*, equipment: Equipment | None) -> bool:
    """Work on a unit holding a fluorinated gas needs a certified technician."""
    return equipment is not None and equipment.refrigerant in F_GASES


def technician_can_do(*, technician: Technician, equipment: Equipment | None, work: str = SERVICE,
                      on: date | None = None) -> Verdict:
    """Whether `technician` may do `work` on `equipment` on day `on`: the one check of the F-gas
    certificate, used by the board (assignment), the routing (skills), the completion report and the
    emergency chain. The reason is a sentence for the person refused."""
    if not refrigerant_work_needed(equipment=equipment):
        return Verdict(True)
    on = on or timezone.localdate()
    who = str(technician)
    if not technician.fgas_certificate_number:
        return Verdict(False, _("%(who)s has no F-gas certificate on record: no work on a unit with %(gas)s.")
                       % {"who": who, "gas": equipment.refrigerant})
    expires = technician.fgas_certificate_expires_on
    if expires is None or expires < on:
        return Verdict(False, _("%(who)s's F-gas certificate %(number)s expired on %(date)s: no refrigerant work "
                                "until it is renewed.") % {"who": who, "number": technician.fgas_certificate_number,
                                                           "date": expires})
    category = technician.fgas_certificate_category
    small = Decimal(equipment.refrigerant_charge_kg or 0) < SMALL_CIRCUIT_KG
    allowed = (category == FgasCategory.I
               or (category == FgasCategory.II and (work == LEAK_CHECK or small))
               or (category == FgasCategory.IV and work == LEAK_CHECK))
    if not allowed:
        return Verdict(False, _("%(who)s's F-gas certificate (category %(cat)s) does not cover this work on a unit "
                                "with %(kg)s kg of %(gas)s.") % {"who": who, "cat": category,
                                                                 "kg": equipment.refrigerant_charge_kg,
                                                                 "gas": equipment.refrigerant})
    return Verdict(True)


def technician_skills(*, technician: Technician, on: date | None = None) -> frozenset[str]:
    """The technician's skills as the routing uses them: `fgas_certified` only with a certificate
    valid on the day, `fgas_large` (circuits of 3 kg and more) only for category I."""
    skills = set(technician.skills) - {"fgas_certified", "fgas_large"}
    on = on or timezone.localdate()
    valid = (bool(technician.fgas_certificate_number) and technician.fgas_certificate_expires_on is not None
             and technician.fgas_certificate_expires_on >= on)
    if valid and technician.fgas_certificate_category in (FgasCategory.I, FgasCategory.II):
        skills.add("fgas_certified")
        if technician.fgas_certificate_category == FgasCategory.I:
            skills.add("fgas_large")
    return frozenset(skills)


# --- a job's history (pghistory events, docs/jobs.md) ------------------------------------------

# What a client may see of their visit's history: its status and times, never staff notes, the
# reasons staff typed or who on the staff did it.
CLIENT_SAFE_HISTORY = ("status", "scheduled_start", "scheduled_end", "requested_start", "requested_end",
                       "completed_at")


def job_history(*, job_id: int, client_safe: bool = False) -> list[dict]:
    """The job's changes, oldest first: when, what changed (field: (before, after)) and, for staff,
    who (user id) and why. `client_safe` keeps only the status and times."""
    fields = CLIENT_SAFE_HISTORY if client_safe else tuple(
        f.attname for f in ServiceJobEvent._meta.concrete_fields if not f.name.startswith("pgh_"))
    events = (ServiceJobEvent.objects.filter(pgh_obj_id=job_id).select_related("pgh_context")
              .order_by("pgh_created_at", "pgh_id"))
    history, before = [], None
    for event in events:
        now = {f: getattr(event, f) for f in fields}
        if before is None:  # the job as created: what it was given
            diff = {f: (None, v) for f, v in now.items() if v not in (None, "", {}, [])}
        else:
            diff = {f: (before[f], v) for f, v in now.items() if before[f] != v}
            if not diff:
                continue  # a change of fields this reader does not see
        before = now
        entry = {"at": event.pgh_created_at, "label": event.pgh_label, "changes": diff}
        if not client_safe:
            meta = event.pgh_context.metadata if event.pgh_context_id else {}
            entry.update(actor=meta.get("actor"), reason=meta.get("reason", ""))
        history.append(entry)
    return history
