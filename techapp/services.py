"""The technician app's writes: actions from the phone, applied exactly once.

Every action (a step, a completion report, a message, an answer to an emergency, a position kept
offline) carries a UUID made on the phone. `device_action_apply` inserts its `DeviceAction` key
(`ON CONFLICT DO NOTHING`: a concurrent replay of the same id waits for the first one's commit),
locks it, and either returns the stored answer or applies the action through the integration layer
inside a savepoint, then stores the answer in the same transaction. So an action and its key commit
together, a refused action leaves nothing half-applied, and the same id twice gets the same answer.

The device's clock is recorded, never trusted: the server's time orders and stamps everything.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hvaccrm.errors import ServiceError
from hvaccrm.models import ServiceJob, Technician
from hvaccrm.models.jobs import JobStatus
from integration import techapp as bridge
from techapp.models import DeviceAction

KINDS = ("step", "complete", "message", "accept", "decline", "position")
MAX_BATCH = 200
# Free text is applied by the services that own it and not kept on the key (see privacy.py).
TEXT_FIELDS = ("body", "work_done", "reason", "leak_location", "leak_repair")
STEP_LABELS = {"en_route": gettext_lazy("On my way"), "on_site": gettext_lazy("Arrived"),
               "complete": gettext_lazy("Complete")}


def _refuse(message: str, *, code: str, field: str | None = None) -> ServiceError:
    return ServiceError(message, code=code, fields={field: [message]} if field else None)


def _job(payload: dict[str, Any], technician: Technician, *, action: str, after_completion: bool = False) -> ServiceJob:
    """The action's job, refused with the reason a technician understands when it no longer fits."""
    try:
        job_id = int(payload.get("job"))
    except (TypeError, ValueError):
        raise _refuse(_("The action names no job."), code="invalid", field="job") from None
    job = ServiceJob.objects.select_related("equipment").filter(pk=job_id).first()
    if job is None:
        raise _refuse(_("Job #%(job)s does not exist any more.") % {"job": job_id}, code="not_found")
    if job.status == JobStatus.CANCELLED:
        raise _refuse(_("The office cancelled job #%(job)s: your “%(action)s” was not applied.")
                      % {"job": job.pk, "action": action}, code="job_cancelled")
    if job.technician_id != technician.pk:
        raise _refuse(_("Job #%(job)s is no longer assigned to you: your “%(action)s” was not applied.")
                      % {"job": job.pk, "action": action}, code="not_yours")
    if job.status == JobStatus.COMPLETED and not after_completion:
        raise _refuse(_("Job #%(job)s is already completed: your “%(action)s” was not applied.")
                      % {"job": job.pk, "action": action}, code="job_completed")
    return job


def _kg(value: Any, *, field: str, charge: float | None) -> str:
    """A refrigerant amount: a number, not negative, and not absurd for the unit (more than twice
    its charge plus a kilogram cannot go into or come out of it in one visit)."""
    if value in (None, ""):
        return "0"
    try:
        kg = Decimal(str(value))
    except InvalidOperation:
        raise _refuse(_("Enter the refrigerant amount as a number of kilograms."), code="invalid",
                      field=field) from None
    if not kg.is_finite() or kg < 0:
        raise _refuse(_("A refrigerant amount cannot be negative."), code="invalid", field=field)
    limit = Decimal(str(charge)) * 2 + 1 if charge else Decimal("100")
    if kg > limit:
        raise _refuse(_("%(kg)s kg is not plausible for this unit (at most %(limit)s kg).")
                      % {"kg": kg, "limit": limit.quantize(Decimal("0.1"))}, code="implausible", field=field)
    return str(kg)


def _apply(*, technician: Technician, kind: str, payload: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    """Apply one action through the integration layer; (answer, job id)."""
    user = technician.user
    if kind == "step":
        to_status = str(payload.get("to_status") or "")
        job = _job(payload, technician, action=str(STEP_LABELS.get(to_status, to_status)))
        if job.status == to_status:
            return {"job": job.pk, "status": job.status, "unchanged": True}, job.pk
        job = bridge.job_step(job=job, technician=technician, to_status=to_status)
        return {"job": job.pk, "status": job.status}, job.pk
    if kind == "complete":
        job = _job(payload, technician, action=str(STEP_LABELS["complete"]))
        if job.status != JobStatus.ON_SITE:
            raise _refuse(_("Job #%(job)s is not on site (it is %(status)s): say you arrived first.")
                          % {"job": job.pk, "status": job.get_status_display()}, code="not_on_site")
        charge = job.equipment.refrigerant_charge_kg if job.equipment_id else None
        report = {
            "work_done": str(payload.get("work_done") or "")[:4000],
            "leak_check": str(payload.get("leak_check") or ""),
            "refrigerant_added_kg": _kg(payload.get("refrigerant_added_kg"), field="refrigerant_added_kg",
                                        charge=charge),
            "refrigerant_recovered_kg": _kg(payload.get("refrigerant_recovered_kg"),
                                            field="refrigerant_recovered_kg", charge=charge),
            "leak_location": str(payload.get("leak_location") or "")[:200],
            "leak_repair": str(payload.get("leak_repair") or "")[:200],
        }
        job = bridge.job_complete(job=job, technician=technician, report=report)
        return {"job": job.pk, "status": job.status}, job.pk
    if kind == "message":
        job = _job(payload, technician, action=_("message"), after_completion=True)
        body = str(payload.get("body") or "").strip()
        if not body:
            raise _refuse(_("Write a message."), code="invalid", field="body")
        message = bridge.job_message_send(user=user, job=job, body=body[:4000])
        return {"job": job.pk, "message": message.pk, "conversation": message.conversation_id}, job.pk
    if kind in ("accept", "decline"):
        try:
            alert_id = int(payload.get("alert"))
        except (TypeError, ValueError):
            raise _refuse(_("The action names no alert."), code="invalid", field="alert") from None
        if kind == "accept":
            alert = bridge.alert_accept(alert_id=alert_id, user=user)
            return {"alert": alert.pk, "job": alert.job_id, "state": alert.state}, alert.job_id
        response = bridge.alert_decline(alert_id=alert_id, user=user, reason=str(payload.get("reason") or ""))
        return {"alert": alert_id, "state": response.state}, None
    if kind == "position":
        try:
            at = _device_time(payload.get("device_time"))
            if at is None:
                raise ValueError
            answer = bridge.position_history_record(
                technician=technician, latitude=float(payload["latitude"]), longitude=float(payload["longitude"]),
                accuracy=float(payload.get("accuracy") or 0), device_time=at, seq=int(payload["seq"]))
        except (KeyError, TypeError, ValueError):
            raise _refuse(_("The position is incomplete."), code="invalid") from None
        return answer, None
    raise _refuse(_("Unknown action."), code="unknown_kind", field="kind")


def _device_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.UTC)
    return parsed


def _kept(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: (len(str(v)) if k in TEXT_FIELDS else v) for k, v in payload.items()}


def device_action_apply(*, technician: Technician, action_id: Any, kind: str, payload: dict[str, Any],
                        device_time: Any = None) -> dict[str, Any]:
    """Apply one phone action exactly once; the answer is {"id", "ok", "replayed", ...} with
    "code" and "message" (and "fields") when it was refused. A refused action is answered, and its
    answer kept, like an applied one: replaying it gives the same refusal."""
    try:
        key = uuid.UUID(str(action_id))
    except ValueError:
        return {"id": str(action_id), "ok": False, "replayed": False, "code": "invalid_id",
                "message": _("The action has no valid id.")}
    if kind not in KINDS or not isinstance(payload, dict):
        return {"id": str(key), "ok": False, "replayed": False, "code": "unknown_kind", "message": _("Unknown action.")}
    with transaction.atomic():
        DeviceAction.objects.bulk_create(
            [DeviceAction(id=key, technician=technician, kind=kind, payload=payload,
                          device_time=_device_time(device_time))], ignore_conflicts=True)
        action = DeviceAction.objects.select_for_update().get(pk=key)
        if action.technician_id != technician.pk:
            # Another phone's id: answered as unknown, nothing of theirs is shown.
            return {"id": str(key), "ok": False, "replayed": False, "code": "invalid_id",
                    "message": _("The action has no valid id.")}
        if action.applied_at is not None:
            return {**action.result, "replayed": True}
        job_id = None
        try:
            with transaction.atomic():  # a savepoint: a refused action leaves nothing behind
                answer, job_id = _apply(technician=technician, kind=kind, payload=payload)
            result = {"id": str(key), "kind": kind, "ok": True, **answer}
        except ServiceError as exc:
            job_id = payload.get("job") if isinstance(payload.get("job"), int) else None
            result = {"id": str(key), "kind": kind, "ok": False, "code": exc.code, "message": exc.message,
                      "fields": {k: [str(m) for m in v] for k, v in exc.fields.items()}}
        action.result, action.ok, action.applied_at = result, result["ok"], timezone.now()
        action.payload = _kept(payload)
        action.job_id = job_id if job_id and ServiceJob.objects.filter(pk=job_id).exists() else None
        action.save(update_fields=["result", "ok", "applied_at", "payload", "job"])
    return {**result, "replayed": False}


def device_actions_replay(*, technician: Technician, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A queue from the phone, in the order it was made (by its "seq"; ties keep the list order).
    Each action commits on its own: one refused does not hold back the ones after it."""
    if len(actions) > MAX_BATCH:
        raise ServiceError(_("At most %(n)d actions at once.") % {"n": MAX_BATCH}, code="too_many")
    ordered = sorted(enumerate(actions), key=lambda ia: (_seq(ia[1]), ia[0]))
    return [device_action_apply(technician=technician, action_id=a.get("id"), kind=str(a.get("kind") or ""),
                                payload=a.get("payload") or {}, device_time=a.get("device_time"))
            for _i, a in ordered if isinstance(a, dict)]


def _seq(action: Any) -> int:
    try:
        return int(action.get("seq", 0)) if isinstance(action, dict) else 0
    except (TypeError, ValueError):
        return 0


def technician_shift_set(*, technician: Technician, on_shift: bool) -> Technician:
    return bridge.technician_shift_set(technician=technician, on_shift=on_shift)
