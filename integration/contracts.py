"""The contracts: for each (target, kind) of the outbox, who records it, the payload's type, the
handler that runs it, the integration service it calls and the subsystems' functions that does.

This table is the one place a cross-system event is declared. `contracts_register` (run when the
app is ready) gives the core each contract's handler and payload check, so `record(...)` refuses a
payload that does not match and the worker finds the handler; `docs/operations.md` carries the
table generated from it (`manage.py contracts_doc`, checked by a test).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings

from communications import services as comms
from communications.services.jobs import visit_window
from communications.transports import text_send
from hvaccrm.models.outbox import Target
from hvaccrm.services.outbox import outbox_handler, outbox_own_transactions, outbox_payload_check, outbox_queue
from integration import handlers, mail, payloads
from integration import services as integration
from integration.payloads import payload_check
from mapping import services as mapping
from prophecy import services as prophecy


@dataclass(frozen=True, kw_only=True)
class Contract:
    """One (target, kind): recorded by `source` with a `payload`, run by `handler`, which calls the
    integration `service`, which calls the subsystems' `calls` (`note` says when, if not always)."""

    target: str
    kind: str
    source: str
    payload: type
    handler: Callable[..., Any]
    service: Callable[..., Any]
    calls: tuple[Callable[..., Any], ...]
    note: str = ""
    # The Celery queue of its own ("" the default): an emergency must not wait behind a backlog.
    queue: str = ""
    # The handler commits its own steps (a delivery is committed "sending" before its gateway is
    # called), so the outbox runs it outside the row's transaction.
    own_transactions: bool = False


CONTRACTS: tuple[Contract, ...] = (
    Contract(target=Target.MAP, kind="message.created", source="communications", payload=payloads.MessageToMap,
             handler=handlers.message_to_map, service=integration.update_map_system,
             calls=(mapping.job_locate, comms.notify_district_technicians),
             note="technicians are told of a located message of urgency *high*"),
    Contract(target=Target.PROPHECY, kind="message.created", source="communications",
             payload=payloads.MessageToProphecy, handler=handlers.message_to_prophecy,
             service=integration.sync_prophecy_data, calls=(prophecy.sync_object,)),
    Contract(target=Target.NOTIFICATIONS, kind="emergency.alert", source="communications, portal",
             payload=payloads.EmergencyAlert, handler=handlers.emergency_to_technicians,
             service=integration.emergency_dispatch_run, calls=(comms.emergency_dispatch,),
             note="the first step of the escalation chain; on the emergency queue; the step's alert and "
                  "in-app notifications commit first and are pushed, then the SMS, log and managers",
             queue=settings.CELERY_EMERGENCY_QUEUE, own_transactions=True),
    Contract(target=Target.NOTIFICATIONS, kind="job.created", source="core", payload=payloads.JobChange,
             handler=handlers.job_to_client, service=integration.job_update_notify_run,
             calls=(comms.job_update_notify,)),
    Contract(target=Target.NOTIFICATIONS, kind="job.updated", source="core", payload=payloads.JobChange,
             handler=handlers.job_to_client, service=integration.job_update_notify_run,
             calls=(comms.job_update_notify,)),
    Contract(target=Target.MAP, kind="job.created", source="core", payload=payloads.JobChange,
             handler=handlers.job_to_routes, service=integration.job_replan_if_needed, calls=(mapping.day_replan,),
             note="only for a job of today or tomorrow, after a change that moves routes"),
    Contract(target=Target.MAP, kind="job.updated", source="core", payload=payloads.JobChange,
             handler=handlers.job_to_routes, service=integration.job_replan_if_needed, calls=(mapping.day_replan,),
             note="only for a job of today or tomorrow, after a change that moves routes"),
    Contract(target=Target.PROPHECY, kind="job.completed", source="core", payload=payloads.JobCompleted,
             handler=handlers.completed_job_to_prophecy, service=integration.sync_prophecy_data,
             calls=(prophecy.sync_object,)),
    Contract(target=Target.PORTAL, kind="booking.created", source="portal", payload=payloads.JobChange,
             handler=handlers.booking_to_systems, service=integration.sync_client_portal_activity,
             calls=(prophecy.sync_object, comms.notify, comms.notify_district_technicians),
             note="the assigned technician, else the district's technicians"),
    Contract(target=Target.PORTAL, kind="booking.confirmation", source="portal",
             payload=payloads.BookingConfirmation, handler=handlers.booking_confirmation_to_client,
             service=integration.booking_confirmation_send, calls=(),
             note="the confirmation e-mail, in the client's language"),
    Contract(target=Target.NOTIFICATIONS, kind="job.confirmation_email", source="integration (office)",
             payload=payloads.JobConfirmationEmail, handler=handlers.confirmation_email_to_client,
             service=mail.job_confirmation_email_send, calls=(visit_window, text_send),
             note="a phone booking's client with an e-mail address and no portal user, in the client's language; "
                  "sent once per row", own_transactions=True),
    Contract(target=Target.NOTIFICATIONS, kind="job.time_change_email", source="integration (job.updated)",
             payload=payloads.JobTimeChangeEmail, handler=handlers.time_change_email_to_client,
             service=mail.job_time_change_email_send, calls=(text_send,),
             note="a later change of the date or window e-mailed to that client (once per new window, never an "
                  "ETA drift); a superseded row sends nothing", own_transactions=True),
    Contract(target=Target.PORTAL, kind="feedback.created", source="portal", payload=payloads.FeedbackCreated,
             handler=handlers.feedback_to_systems, service=integration.sync_client_portal_activity,
             calls=(prophecy.sync_object, comms.notify_role), note="managers are told of a rating of 2 or less"),
    Contract(target=Target.NOTIFICATIONS, kind="prophecy.alert", source="prophecy", payload=payloads.HotspotAlert,
             handler=handlers.prophecy_to_managers, service=integration.prophecy_alert_dispatch,
             calls=(comms.notify_role,), note="and a `prophecy.alert` push to the managers and dispatch"),
    Contract(target=Target.NOTIFICATIONS, kind="delivery.send", source="communications",
             payload=payloads.DeliverySend, handler=handlers.delivery_to_channel, service=integration.delivery_run,
             calls=(comms.delivery_attempt_or_raise,), note="a failed delivery leaves the row failed for a retry",
             own_transactions=True),
    Contract(target=Target.NOTIFICATIONS, kind="message.relay", source="communications",
             payload=payloads.MessageRelay, handler=handlers.message_to_client_channel,
             service=integration.message_relay_run, calls=(comms.message_relay,),
             note="an office reply on the client's preferred or last channel; a refusal is retried"),
    Contract(target=Target.NOTIFICATIONS, kind="inbound.emergency", source="communications",
             payload=payloads.InboundEmergency, handler=handlers.inbound_emergency_to_dispatchers,
             service=integration.inbound_emergency_run, calls=(comms.inbound_emergency_alert,),
             note="an unknown sender's emergency: the dispatchers, the gas-safety instruction on its channel; "
                  "on the emergency queue",
             queue=settings.CELERY_EMERGENCY_QUEUE),
    Contract(target=Target.NOTIFICATIONS, kind="visit.moved", source="core", payload=payloads.VisitMoved,
             handler=handlers.visit_moved_to_office, service=integration.visit_moved_notify_run,
             calls=(comms.visit_moved_notify,), note="dispatchers and managers, when a client moved a planned visit"),
    Contract(target=Target.NOTIFICATIONS, kind="signin_link.send", source="portal", payload=payloads.SigninLink,
             handler=handlers.signin_link_to_user, service=mail.signin_link_send_run,
             calls=(comms.email_notification_create, comms.delivery_attempt_or_raise),
             note="the portal's registered issuer makes a fresh token at each attempt; a refusal is retried",
             own_transactions=True),
)


def contract_for(target: str, kind: str) -> Contract:
    return next(c for c in CONTRACTS if (c.target, c.kind) == (target, kind))


def contracts_register() -> None:
    """Give the core every contract's handler and payload check (called once, when the app is ready)."""
    for c in CONTRACTS:
        outbox_handler(c.target, c.kind)(c.handler)
        outbox_payload_check(c.target, c.kind, partial(payload_check, c.payload))
        if c.queue:
            outbox_queue(c.target, c.kind, c.queue)
        if c.own_transactions:
            outbox_own_transactions(c.target, c.kind)


def _name(fn: Callable[..., Any]) -> str:
    """The public name (`app.services.fn`): the table does not change when a package is reorganised."""
    app, package = fn.__module__.split(".")[:2]
    return f"`{app}.{package}.{fn.__qualname__}`"


def contracts_table() -> str:
    """The contracts as a Markdown table (the block between the markers in docs/operations.md)."""
    lines = ["| target / kind | recorded by | payload | handler | integration service | calls |",
             "|---|---|---|---|---|---|"]
    for c in CONTRACTS:
        calls = ", ".join(_name(fn) for fn in c.calls) or "(none)"
        calls += f" ({c.note})" if c.note else ""
        lines.append(f"| {c.target} / {c.kind} | {c.source} | `integration.payloads.{c.payload.__name__}` "
                     f"| `{c.handler.__name__}` | `{c.service.__name__}` | {calls} |")
    return "\n".join(lines) + "\n"


DOC_START = "<!-- contracts: generated by `manage.py contracts_doc` from integration/contracts.py -->"
DOC_END = "<!-- /contracts -->"


def contracts_doc_render(doc: str) -> str:
    """The document with the block between the markers replaced by the current table."""
    head, start, rest = doc.partition(DOC_START)
    _old, end, tail = rest.partition(DOC_END)
    if not start or not end:
        raise ValueError("the document has no contracts markers")
    return f"{head}{DOC_START}\n{contracts_table()}{DOC_END}{tail}"
