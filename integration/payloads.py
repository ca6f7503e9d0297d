"""The payload of every outbox row, one TypedDict per contract, and the check that enforces them.

A payload is JSON in the integration log, so its values are JSON's: ids are ints, moments are ISO
strings, coordinates floats. `payload_check` runs when the row is recorded (the core calls it
through its registry), so a sender that forgets a key or sends a model instance fails in its own
transaction instead of in a handler minutes later. Keys marked NotRequired may be absent (repairs
and older senders record fewer); every key present must have its declared type, and a key the
contract does not declare is refused (a misspelt key would otherwise be read as missing).
"""

from __future__ import annotations

import types
from functools import cache
from typing import Any, NotRequired, TypedDict, Union, get_args, get_origin, get_type_hints

# --- communications ----------------------------------------------------------------------------


class MessageToMap(TypedDict):
    """(map, message.created): a located or urgent message moves the job and the map markers."""

    message: int
    job: int | None
    latitude: float | None
    longitude: float | None
    district: str | None
    urgency: str


class MessageToProphecy(TypedDict):
    """(prophecy, message.created): the message's text goes to the vector store."""

    message: int
    conversation: int
    client: int
    text: str
    language: str
    district: str | None
    service_type: str | None
    urgency: str
    created: str


class EmergencyAlert(TypedDict):
    """(notifications, emergency.alert): an emergency reaches the district's technicians. From a
    message (`message` set) or an emergency booking in the portal (`message` None, `job` set)."""

    message: int | None
    job: int | None
    district: str | None
    text: str
    urgency: str
    service_types: list[str]


class DeliverySend(TypedDict):
    """(notifications, delivery.send): one delivery through an outside channel."""

    delivery: int


class MessageRelay(TypedDict):
    """(notifications, message.relay): an office reply sent to the client's outside channel."""

    message: int
    channel: str  # "sms", "telegram" or "email"


class InboundEmergency(TypedDict):
    """(notifications, inbound.emergency): an unknown sender's text triaged as an emergency (an
    InboundThread waiting for the office): the dispatchers are alerted; `safety` a gas or CO
    emergency (the instruction is owed), `reply` whether the handler sends it on `channel`."""

    thread: int
    channel: str  # "sms", "telegram" or "email"
    text: str
    language: str
    safety: bool
    reply: bool


# --- the core's jobs and feedback ----------------------------------------------------------------


class JobChange(TypedDict):
    """(notifications|map, job.created|job.updated) and (portal, booking.created): `job_payload`
    of the core plus what changed. Only the job's id is required: repairs record just that."""

    job: int
    status: NotRequired[str]
    client: NotRequired[int]
    site: NotRequired[int]
    service_type: NotRequired[str]
    urgency: NotRequired[str]
    priority: NotRequired[int]
    technician: NotRequired[int | None]
    district: NotRequired[str | None]
    latitude: NotRequired[float | None]
    longitude: NotRequired[float | None]
    scheduled_start: NotRequired[str | None]
    scheduled_end: NotRequired[str | None]
    eta: NotRequired[str | None]
    change: NotRequired[str]
    previous_status: NotRequired[str | None]
    source: NotRequired[str]
    previous_technician: NotRequired[int]  # a reassignment: who lost the job (their route changes too)


class JobCompleted(TypedDict):
    """(prophecy, job.completed): a finished job's problem and resolution for semantic search."""

    job: int
    client: int
    text: str
    service_type: str
    district: str | None
    created: str
    equipment: str
    resolution: str
    status: str


class FeedbackCreated(TypedDict):
    """(portal, feedback.created): a client's rating of a visit."""

    feedback: int
    job: int
    client: int
    rating: int
    district: str | None
    service_type: str


class BookingConfirmation(TypedDict):
    """(portal, booking.confirmation): the e-mail confirming a portal booking to the user who made it."""

    job: int
    user: int


class JobConfirmationEmail(TypedDict):
    """(notifications, job.confirmation_email): the e-mail confirming an office booking to a client
    with an e-mail address and no portal user (portal users hear through their notifications).
    `key`: the window it tells (integration.mail.told_key), against which a later change is compared."""

    job: int
    key: NotRequired[str]


class JobTimeChangeEmail(TypedDict):
    """(notifications, job.time_change_email): the e-mail telling that client a later change of the
    visit's date or window. `key` is the new window (`start`/`end`, ISO); a row whose window the job
    no longer has sends nothing."""

    job: int
    key: str
    start: str
    end: str


class VisitMoved(TypedDict):
    """(notifications, visit.moved): a client moved a planned visit by the reminder's link; the
    office is told. Days are ISO dates (`previous_day` "" when the visit had none)."""

    job: int
    day: str
    previous_day: str


class SigninLink(TypedDict):
    """(notifications, signin_link.send): a portal sign-in or invitation link e-mailed to a user. No
    token: the handler issues one at each send attempt, so the raw token is never stored."""

    user: int
    purpose: str
    created_by: int | None


# --- prophecy -------------------------------------------------------------------------------------


class HotspotAlert(TypedDict):
    """(notifications, prophecy.alert): a forecast hotspot of one district and week."""

    prediction: int
    predictions: NotRequired[list[int]]
    district: str
    district_slug: str
    predictedDemand: float
    confidence: float
    serviceTypes: list[str]
    week_start: str
    chart_url: NotRequired[str]  # the district's chart page
    jobs_url: NotRequired[str]  # the jobs behind the alert


# --- the check ------------------------------------------------------------------------------------


class InvalidPayload(ValueError):
    """A payload that does not match its contract; raised at record time, so nothing is written."""


@cache
def _fields(schema: type) -> dict[str, tuple[Any, bool]]:
    """{key: (type, required)} of a TypedDict, NotRequired unwrapped."""
    out = {}
    for key, hint in get_type_hints(schema, include_extras=True).items():
        if get_origin(hint) is NotRequired:
            out[key] = (get_args(hint)[0], False)
        else:
            out[key] = (hint, True)
    return out


def _matches(value: Any, hint: Any) -> bool:
    origin = get_origin(hint)
    if hint is type(None):
        return value is None
    if origin in (Union, types.UnionType):
        return any(_matches(value, arg) for arg in get_args(hint))
    if origin is list:
        (item,) = get_args(hint)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if hint is float:  # JSON has one number type: an int is a valid float (bool is not)
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def payload_check(schema: type, payload: Any) -> None:
    """Raise InvalidPayload unless `payload` matches the TypedDict `schema` (see the module doc)."""
    if not isinstance(payload, dict):
        raise InvalidPayload(f"{schema.__name__}: a payload is a dict, not {type(payload).__name__}")
    fields = _fields(schema)
    problems = [f"unknown key {k!r}" for k in payload if k not in fields]
    for key, (hint, required) in fields.items():
        if key not in payload:
            if required:
                problems.append(f"missing key {key!r}")
        elif not _matches(payload[key], hint):
            problems.append(f"{key!r} is {type(payload[key]).__name__}, expected {hint}")
    if problems:
        raise InvalidPayload(f"{schema.__name__}: " + "; ".join(problems))
