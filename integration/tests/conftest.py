"""Fixtures of the integration flows (audit's tests use them too): a client's conversation about a
job, sending through communications' real service, and the outbox rows of one object."""

from __future__ import annotations

import pytest

from hvaccrm.models import IntegrationLog
from hvaccrm.tests.factories import ServiceJobFactory


@pytest.fixture
def anna_job(client_anna):
    site = client_anna.sites.get()
    return ServiceJobFactory(site=site, client=client_anna, description="Klimatyzacja nie chłodzi")


@pytest.fixture
def anna_conversation(anna_user, client_anna, anna_job, dispatcher):
    from communications.services import conversation_start

    return conversation_start(author=dispatcher, client_id=client_anna.pk, subject="Serwis", job_id=anna_job.pk)


@pytest.fixture
def send(anna_user, anna_conversation, django_capture_on_commit_callbacks):
    """Anna sends a message; the outbox rows are published after commit and run eagerly."""
    from communications.services import message_send

    def _send(body: str, *, latitude: float | None = None, longitude: float | None = None, author=None):
        with django_capture_on_commit_callbacks(execute=True):
            return message_send(author=author or anna_user, conversation_id=anna_conversation.pk, body=body,
                                latitude=latitude, longitude=longitude)

    return _send


def rows_of(object_type: str, object_id) -> dict[tuple[str, str], IntegrationLog]:
    return {(r.target, r.kind): r for r in IntegrationLog.objects.filter(object_type=object_type,
                                                                          object_id=str(object_id))}
