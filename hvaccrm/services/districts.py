"""The district weight: the office's one lever per district (the plan's priorities, the cache tier).
A change is checked, saved and written to the access trail with who and why in one transaction."""

from __future__ import annotations

import math

from django.db import transaction
from django.utils.translation import gettext as _

from hvaccrm.errors import ServiceError
from hvaccrm.models import District
from hvaccrm.models.districts import WEIGHT_MAX
from hvaccrm.services.access import access_record


def district_weight_check(*, weight: float | None, reason: str = "", need_reason: bool = True) -> None:
    """Refuse a weight outside 0..WEIGHT_MAX (or not a number) and a change without a reason."""
    if weight is None or not math.isfinite(weight) or not 0 <= weight <= WEIGHT_MAX:
        msg = _("A weight is a number from 0 to %(max)s (1 is neutral).") % {"max": f"{WEIGHT_MAX:g}"}
        raise ServiceError(msg, code="weight_out_of_range", fields={"weight": [msg]})
    if need_reason and not reason.strip():
        msg = _("Say why the weight changes: it goes into the access trail.")
        raise ServiceError(msg, code="reason_required", fields={"reason": [msg]})


def district_weight_set(*, district: District, weight: float, actor, reason: str) -> District:
    """Set a district's weight; the trail row (old and new weight, who, why) is written in the same
    transaction. Setting the weight it already has changes and logs nothing."""
    district_weight_check(weight=weight, reason=reason)
    with transaction.atomic():
        locked = District.objects.select_for_update().get(pk=district.pk)
        before = locked.weight
        if before != weight:
            locked.weight = weight
            locked.save(update_fields=["weight", "updated_at"])
            access_record(actor=actor, action="change", obj=locked, fields=["weight"],
                          purpose=f"weight {before:g} -> {weight:g}: {reason.strip()}")
    district.weight, district.updated_at = locked.weight, locked.updated_at
    return district
