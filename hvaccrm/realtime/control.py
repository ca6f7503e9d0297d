"""Control messages to a user's own sockets (never relayed to the page as events).

`rights.changed`: the user's roles, clients, jobs or active flag changed; each of their sockets
recomputes which groups it may keep (and closes if the user was deactivated). Every socket is in
its user's group (`user.<id>`), so one group_send reaches all of them, on any server process.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from hvaccrm.realtime import groups as g

logger = logging.getLogger(__name__)

RIGHTS_CHANGED = "rights.changed"


def _send_rights_changed(user_ids: list[int]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for user_id in user_ids:
        try:
            async_to_sync(layer.group_send)(g.user_group(user_id), {"type": RIGHTS_CHANGED})
        except Exception:  # Redis down: the socket keeps stale groups until it reconnects; say so
            logger.error("rights.changed to user %s could not be sent", user_id, exc_info=True)


def rights_changed(*, user_ids: list[int] | set[int]) -> None:
    """Tell the users' open sockets to re-check their groups, after the current transaction commits.

    After commit, because the consumer re-reads the rights from the database: before it, it would
    read the old ones and keep the groups.
    """
    ids = sorted({int(u) for u in user_ids if u is not None})
    if ids:
        transaction.on_commit(lambda: _send_rights_changed(ids))
