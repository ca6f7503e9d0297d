"""Shared steps of the technician app's tests: a technician's job, an emergency alert."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from communications import services as comms
from communications.models import EmergencyAlert
from communications.tests.factories import ConversationFactory
from hvaccrm.models import IntegrationLog, ServiceJob
from hvaccrm.services import job_assign
from hvaccrm.services.outbox import outbox_process
from hvaccrm.tests.factories import EquipmentFactory, ServiceJobFactory

GAS = "Czuć gaz w kuchni przy kotle!"


def job_for(technician, *, client=None, status: str = "scheduled", conversation: bool = True,
            charge: float = 1.2, refrigerant: str = "R32") -> ServiceJob:
    """A job assigned to `technician` today, with a unit and (by default) a conversation."""
    kw = {"site__client": client} if client is not None else {}
    job = ServiceJobFactory(**kw)
    job.equipment = EquipmentFactory(site=job.site, refrigerant=refrigerant, refrigerant_charge_kg=charge)
    job.save(update_fields=["equipment"])
    start = timezone.now() + timedelta(hours=1)
    job_assign(job=job, technician=technician, scheduled_start=start, scheduled_end=start + timedelta(hours=2))
    job.refresh_from_db()
    if conversation:
        ConversationFactory(client=job.client, job=job)
    for to in {"en_route": ["en_route"], "on_site": ["en_route", "on_site"]}.get(status, []):
        comms_free_step(job, technician, to)
    job.refresh_from_db()
    return job


def comms_free_step(job, technician, to_status):
    from mapping.services import job_step

    job_step(job=job, technician=technician, to_status=to_status)


def action(kind: str, order: int = 1, **payload) -> dict:
    return {"id": str(uuid.uuid4()), "seq": order, "kind": kind, "payload": payload,
            "device_time": timezone.now().isoformat()}


def emergency_alert(client) -> EmergencyAlert:
    """A client's gas message, dispatched as the emergency worker does."""
    conversation = ConversationFactory(client=client)
    message = comms.message_send(author=client.users.get(), conversation_id=conversation.pk, body=GAS)
    row = IntegrationLog.objects.get(kind="emergency.alert", object_id=str(message.pk))
    outbox_process(log_id=row.pk)
    return EmergencyAlert.objects.get(message=message)
