"""Shared by the service modules: constants, access rules, the batched group send."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from communications.models import (
    Conversation,
)
from hvaccrm.errors import ServiceError
from hvaccrm.models import Technician
from hvaccrm.realtime import events
from hvaccrm.realtime import groups as g

logger = logging.getLogger(__name__)
User = get_user_model()
OFFICE_ROLES = ("dispatcher", "manager", "administrator")
SOURCE = "communications"
DELIVERY_KIND = "delivery.send"
DELIVERY_OBJECT = "communications.delivery"
ALERT_OBJECT = "communications.emergencyalert"
MAX_BODY = 5000
T = TypeVar("T")


def _not_found(what: str) -> ServiceError:
    # Someone else's object answers exactly like a missing one (no existence oracle).
    return ServiceError(_("%(what)s not found.") % {"what": what}, code="not_found", status_code=404)


def user_is_office(user) -> bool:
    return g.is_staff_role(user, *OFFICE_ROLES)


def _technician_of(user) -> Technician | None:
    return Technician.objects.filter(user_id=user.pk).first() if user.is_authenticated else None


def conversation_can_access(*, user, conversation: Conversation) -> bool:
    """Office roles see every conversation; a client their own; a technician those of their jobs."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user_is_office(user):
        return True
    if conversation.client.users.filter(pk=user.pk).exists():
        return True
    tech = _technician_of(user)
    return tech is not None and conversation.job_id is not None and conversation.job.technician_id == tech.pk


def _send_many(pushes: list[tuple[str, dict]]) -> list[bool]:
    """Push each (group, event) after commit in one batch (hvaccrm.realtime.events.send_many)."""
    return events.send_many(pushes)


def run_deduped(work: Callable[[], T], *, made_by_other_run: Callable[[], T] | None) -> T:
    """Run `work` in a transaction keyed by a dedupe key; if a concurrent run of the same work won
    the race (IntegrityError on the unique key), return what that run made.

    No savepoint (each is a round trip on the alert's critical path), so inside a caller's
    transaction the error is raised: that transaction is broken anyway, and the outbox runs the
    row again. Without `made_by_other_run` (no key) the error is raised too.
    """
    outermost = not transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic(savepoint=False):
            return work()
    except IntegrityError:
        if not outermost or made_by_other_run is None:
            raise
        return made_by_other_run()
