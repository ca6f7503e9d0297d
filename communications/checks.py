"""Health checks of communications."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from communications.models import Delivery, EmergencyAlert
from hvaccrm.checks import register_check


@register_check("communications")
def check_communications() -> str:
    """Fails when an emergency waits unacknowledged and unescalated well past its time."""
    late = EmergencyAlert.objects.filter(state=EmergencyAlert.State.OPEN,
                                         escalate_at__lt=timezone.now() - timedelta(minutes=5)).count()
    if late:
        raise RuntimeError(f"{late} emergency alert(s) not escalated (is the beat running?)")
    dead = Delivery.objects.filter(state=Delivery.State.DEAD).count()
    return f"{dead} dead deliveries"
