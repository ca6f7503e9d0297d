"""Learning from the office: staff correct a message's urgency, and the correction is kept as a
labelled example for the next `manage.py triage_train` (docs/triage.md, "Corrections")."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from communications.models import Message, TriageCorrection
from communications.services.common import user_is_office
from hvaccrm.errors import ServiceError
from hvaccrm.models.jobs import Urgency
from hvaccrm.services import access_record

MAX_REASON = 500


def message_urgency_correct(*, message: Message, urgency: str, actor, reason: str = "") -> TriageCorrection:
    """Set the message's urgency to what the office says it is and keep the correction as labelled data.

    Only office roles may correct: a client would label their own messages emergencies, and a
    technician sees only their jobs' conversations. The same urgency again is still recorded (the
    office confirming the classifier is a labelled example too).
    """
    if not user_is_office(actor):
        raise ServiceError(_("Only the office can correct a message's urgency."), code="forbidden", status_code=403)
    if urgency not in Urgency.values:
        raise ServiceError(_("Choose an urgency."), fields={"urgency": [_("Choose an urgency.")]})
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        correction = TriageCorrection.objects.create(
            message=locked, text=locked.body, language=locked.language, urgency_before=locked.urgency,
            urgency=urgency, reason=(reason or "").strip()[:MAX_REASON], actor=actor,
        )
        if locked.urgency != urgency:
            locked.urgency = urgency
            locked.save(update_fields=["urgency"])
        # The office read the client's message to label it: the access trail says who and why.
        access_record(actor=actor, action="change", obj=locked, subject_client_id=locked.conversation.client_id,
                      purpose="urgency corrected for triage training")
    message.urgency = urgency
    return correction
