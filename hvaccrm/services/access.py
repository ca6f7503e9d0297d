from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from hvaccrm.access_trail import trail_noted
from hvaccrm.models import AccessRecord


def access_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: object = "",
    subject_client_id: int | None = None,
    purpose: str = "",
    fields: Iterable[str] = (),
    request=None,
) -> AccessRecord:
    """Write one access-trail entry; call it wherever personal data is read or changed."""
    if obj is not None:
        object_type, object_id = obj._meta.label_lower, obj.pk
    ip = None
    if request is not None:
        ip = request.META.get("REMOTE_ADDR")
    label = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        label = actor.get_username()
    trail_noted()  # the request's own row: the access-trail middleware records no second one
    return AccessRecord.objects.create(
        actor=actor if label else None, actor_label=label or "system", action=action,
        object_type=object_type, object_id=str(object_id), subject_client_id=subject_client_id,
        purpose=purpose[:255], fields=list(fields), ip_address=ip,
    )
