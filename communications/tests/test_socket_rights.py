"""A technician taken off a job leaves its conversation's group while the socket stays open."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from communications import services as comms
from communications.tests.factories import ConversationFactory
from hvaccrm import services
from hvaccrm.models.jobs import JobStatus
from hvaccrm.realtime import groups
from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory, district
from hvaccrm.tests.realtime_helpers import connect, frames_within, receive_json, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


def _assigned_conversation(technician):
    job = ServiceJobFactory(technician=technician, status=JobStatus.SCHEDULED)
    return job, ConversationFactory(client=job.client, job=job)


async def _subscribed(user, conversation) -> object:
    comm = await connect(user)
    await receive_json(comm)  # hello
    await comm.send_json_to(
        {"type": "subscribe", "id": "s", "data": {"group": groups.conversation_group(conversation.pk)}}
    )
    assert (await receive_until(comm, "ack"))["data"]["group"] == groups.conversation_group(conversation.pk)
    return comm


async def _message_heard(comm, conversation, author) -> bool:
    await sync_to_async(comms.message_send)(author=author, conversation_id=conversation.pk, body="Czy ktoś jedzie?")
    return any(f["type"] == "message.created" for f in await frames_within(comm, 1.5))


@pytest.mark.parametrize("how", ["unassigned", "reassigned"])
async def test_a_technician_taken_off_a_job_leaves_its_conversation_group(technician_mokotow, how):
    job, conversation = await sync_to_async(_assigned_conversation)(technician_mokotow)
    user = await sync_to_async(lambda: technician_mokotow.user)()
    client_user = await sync_to_async(lambda: _client_login(job.client))()
    comm = await _subscribed(user, conversation)
    assert await _message_heard(comm, conversation, client_user)
    if how == "unassigned":
        await sync_to_async(services.job_transition)(job=job, to_status=JobStatus.NEW)
    else:
        other = await sync_to_async(TechnicianFactory)(home_district=await sync_to_async(district)("wola"))
        await sync_to_async(services.job_assign)(job=job, technician=other)
    changed = await receive_until(comm, "rights.changed")
    assert groups.conversation_group(conversation.pk) in changed["data"]["removed"]
    assert not await _message_heard(comm, conversation, client_user)
    await comm.disconnect()


def _client_login(client):
    from hvaccrm.tests.factories import UserFactory

    user = UserFactory(role="client")
    client.users.add(user)
    return user
