"""The database work of a socket, run in the socket's thread as channels' database_sync_to_async runs
it (old connections closed before and after), and with DEBUG's query log emptied afterwards.

Under DEBUG Django keeps every query of a connection (up to 9,000) until the next `request_started`
signal clears it; a socket's thread never sees a request, so at a day's traffic (200 devices, a
position every 5 s) each socket lane's connection grew its log to thousands of queries, tens of
megabytes per web process (issue 21's load: +17 % RSS in 10 minutes). Each piece of socket work is
now what a request is for the log: it starts empty.
"""

from __future__ import annotations

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import reset_queries


class SocketDatabaseWork(DatabaseSyncToAsync):
    def thread_handler(self, loop, *args, **kwargs):
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            if settings.DEBUG:
                reset_queries()


socket_db = SocketDatabaseWork
