"""The per-message reads in SQL written out, their rows turned into model instances (`from_db`),
and the conversation's `last_message_at` touch.

They run for every inbound text (and every portal message): composing them in the ORM cost more CPU
than running them. Measured in-process (300 calls each): the conversation with its job's district by
`select_related(...).defer(...).first()` 2.7 ms CPU, the client's first site's district 1.3-1.5 ms;
written out ~0.2-0.4 ms each (docs/channels.md, "Figures"). The instances are whole rows, as the ORM
would give them, except the district's boundary (`geometry`, deferred as before: never read here).
"""

from __future__ import annotations

from django.db import connection

from communications.models import Conversation
from hvaccrm.models import District, ServiceJob, Site

_q = connection.ops.quote_name


def _fields(model, *, without: tuple[str, ...] = ()) -> list:
    return [f for f in model._meta.concrete_fields if f.name not in without]


_CONVERSATION = _fields(Conversation)
_JOB = _fields(ServiceJob)
_DISTRICT = _fields(District, without=("geometry",))


def _columns(alias: str, fields: list) -> str:
    return ", ".join(f"{alias}.{_q(f.column)}" for f in fields)


# Only the models' own table and column names (quoted) are put into the text; every value is a
# query parameter, and `where` is one of this module's constants.
# The conversation, its job and the job's district in one row (LEFT JOINs: most have no job).
CONVERSATION_SQL = (
    f"SELECT {_columns('c', _CONVERSATION)}, {_columns('j', _JOB)}, {_columns('d', _DISTRICT)} "  # noqa: S608
    f"FROM {_q(Conversation._meta.db_table)} c "
    f"LEFT JOIN {_q(ServiceJob._meta.db_table)} j ON j.{_q('id')} = c.{_q('job_id')} "
    f"LEFT JOIN {_q(District._meta.db_table)} d ON d.{_q('id')} = j.{_q('district_id')} "
    "WHERE {where} ORDER BY c.last_message_at DESC, c.id DESC LIMIT 1"
)
# The district of the client's first site (the site with the lowest id that has one).
CLIENT_DISTRICT_SQL = (
    f"SELECT {_columns('d', _DISTRICT)} FROM {_q(District._meta.db_table)} d "  # noqa: S608
    f"JOIN {_q(Site._meta.db_table)} s ON s.{_q('district_id')} = d.{_q('id')} "
    "WHERE s.client_id = %s ORDER BY s.id LIMIT 1"
)


def _instance(model, fields: list, values) -> object:
    return model.from_db(connection.alias, [f.attname for f in fields], list(values))


def _conversation_row(row) -> Conversation:
    """A row of CONVERSATION_SQL as the conversation with its job and the job's district cached
    (what `select_related("job__district")` gives: reading them costs no query)."""
    n_conversation, n_job = len(_CONVERSATION), len(_JOB)
    conversation = _instance(Conversation, _CONVERSATION, row[:n_conversation])
    if conversation.job_id is not None:
        job = _instance(ServiceJob, _JOB, row[n_conversation:n_conversation + n_job])
        district_row = row[n_conversation + n_job:]
        district = _instance(District, _DISTRICT, district_row) if job.district_id is not None else None
        ServiceJob._meta.get_field("district").set_cached_value(job, district)
        Conversation._meta.get_field("job").set_cached_value(conversation, job)
    return conversation


def conversation_newest(*, client_id: int) -> Conversation | None:
    """The client's conversation with the newest message (ties: the newest conversation), or None."""
    return _conversation_one("c.client_id = %s", [client_id])


def conversation_by_id(*, conversation_id: int) -> Conversation | None:
    return _conversation_one("c.id = %s", [conversation_id])


def _conversation_one(where: str, params: list) -> Conversation | None:
    with connection.cursor() as cursor:
        cursor.execute(CONVERSATION_SQL.format(where=where), params)
        row = cursor.fetchone()
    return _conversation_row(row) if row is not None else None


def client_district(*, client_id: int) -> District | None:
    """The district of the client's first site that has one (by site id), without its boundary."""
    with connection.cursor() as cursor:
        cursor.execute(CLIENT_DISTRICT_SQL, [client_id])
        row = cursor.fetchone()
    return _instance(District, _DISTRICT, row) if row is not None else None


CONVERSATION_TOUCH_SQL = (
    f"UPDATE {_q(Conversation._meta.db_table)} SET {_q('last_message_at')} = %s WHERE {_q('id')} = %s"  # noqa: S608
)


def conversation_touch(*, conversation_id: int, at) -> None:
    """The conversation's last message is at `at` (the inbox orders by it); no signal, like `update()`."""
    with connection.cursor() as cursor:
        cursor.execute(CONVERSATION_TOUCH_SQL, [at, conversation_id])
