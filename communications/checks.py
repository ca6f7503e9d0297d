"""Health checks of communications."""

from __future__ import annotations

from datetime import timedelta

from django.core import checks
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


@checks.register()
def check_triage_model(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Start-up fails when the committed triage model does not fit the installed scikit-learn:
    an unpickled model from another version may predict differently without saying so."""
    from communications.classifier.model import version_problem

    problem = version_problem()
    return [checks.Error(problem, hint="pip install -r requirements.txt", id="communications.E001")] if problem else []
