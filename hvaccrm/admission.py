"""Admission control in front of Django's HTTP handler (hvaccrm/asgi.py).

Django runs each request's synchronous code in a thread of its own, with a database connection of
its own. Without a cap, a web process that falls behind starts a thread and borrows a connection
for every request that arrives, and queueing makes every one of them slower (and, without a pool,
exhausts PostgreSQL's connections). Here at most `limit` HTTP requests of a process are inside
Django at once; the rest wait in the event loop (a coroutine each: no thread, no connection), first
come first served, for at most `wait` seconds, and are then answered 503 with Retry-After, so a
client or a load balancer backs off instead of piling on. WebSockets pass untouched: a socket is
held for hours and its frames are small; their database work is bounded by the pool.
"""

from __future__ import annotations

import asyncio
import json
import logging

logger = logging.getLogger(__name__)


class AdmissionLimit:
    """ASGI middleware: at most `limit` concurrent HTTP requests in `app`; others wait up to `wait` s."""

    def __init__(self, app, *, limit: int, wait: float, retry_after: int = 5) -> None:
        self.app, self.limit, self.wait, self.retry_after = app, limit, wait, retry_after
        self.slots = asyncio.Semaphore(limit) if limit > 0 else None
        self.refused = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self.slots is None:
            await self.app(scope, receive, send)
            return
        try:
            await asyncio.wait_for(self.slots.acquire(), timeout=self.wait)
        except TimeoutError:
            self.refused += 1
            logger.warning("overloaded: %s %s waited %.1f s for one of %d request slots; answered 503 "
                           "(%d refused by this process)", scope.get("method"), scope.get("path"),
                           self.wait, self.limit, self.refused)
            await self._refuse(scope, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()

    async def _refuse(self, scope, send) -> None:
        if scope.get("path", "").startswith("/api/"):  # the API's one error shape (hvaccrm/drf.py)
            body = json.dumps({"error": {"code": "overloaded", "fields": {},
                                         "message": "The server is busy; retry after a few seconds."}}).encode()
            content_type = b"application/json"
        else:
            body = "Serwer jest przeciążony, spróbuj za chwilę. / The server is busy; try again shortly.\n".encode()
            content_type = b"text/plain; charset=utf-8"
        await send({"type": "http.response.start", "status": 503, "headers": [
            (b"content-type", content_type), (b"retry-after", str(self.retry_after).encode()),
            (b"cache-control", b"no-store"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class SocketLanes:
    """ASGI middleware for WebSockets: each socket's synchronous work (database_sync_to_async in the
    consumer and in channels' session middleware) runs on one of `lanes` threads, sockets spread over
    them in turn, instead of on the ONE thread channels uses for every socket of the process.

    With that single thread, a process's socket work is serial: every position frame, socket
    connect and subscribe of its technicians and office pages queue behind each other (the load
    suite measured a position's ack at p50 2.7 s while the same positions by POST, each on a thread
    of its own, took 0.6 s on the same overloaded machine), and a handshake that waits there more
    than daphne's 5 s is dropped. One socket still runs on one thread (its calls stay in order and
    thread-sensitive code keeps its thread); the database pool bounds the connections the lanes hold.
    """

    def __init__(self, app, *, lanes: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.app = app
        self.lanes = [ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"socket-lane-{i}")
                      for i in range(max(0, lanes))]
        self.next = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "websocket" or not self.lanes:
            await self.app(scope, receive, send)
            return
        from asgiref.sync import ThreadSensitiveContext

        lane = self.lanes[self.next % len(self.lanes)]
        self.next += 1
        async with ThreadSensitiveContext(executor=lane):
            await self.app(scope, receive, send)
