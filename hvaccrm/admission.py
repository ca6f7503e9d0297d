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
