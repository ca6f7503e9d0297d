"""Django's ASGI handler, with a request's synchronous part in ONE thread hop (hvaccrm/asgi.py).

Django's `ASGIHandler.__call__` opens a `ThreadSensitiveContext` for every request: a new
single-thread executor, so a thread started and joined per request, and hops to it three times
(the `request_started` signal, the middleware and view, the response's close with
`request_finished`), with a task listening for a disconnect beside the view. Every middleware and
view of ours is synchronous, so the whole request can run as under WSGI: `OneHopHandler` reads the
body on the event loop, then runs the started signal, the request's creation, the middleware chain
and the view, and the close (`request_finished`: the database connection goes back to the pool) in
one call on the loop's executor (its threads are kept), and sends the answer from the loop.

The loop's default executor has min(32, cores + 4) threads: with the request cap off
(WEB_CONCURRENT_REQUESTS=0) requests beyond that wait for a thread instead of each starting one.

A streamed answer of a synchronous iterator (a CSV export, a file) is read to its end in that same
thread, as Django's handler reads it into a list (in the request's thread) before sending: its
generator may use the request's database connection, which belongs to that thread. An asynchronous
stream is sent from the loop and closed after it.

Measured (docs/channels.md, "One thread hop per webhook"): the signed webhook 7.1-7.4 -> 5.7-6.6 ms
CPU per text in-process, the portal's login page ~3.5 -> ~1.9 ms, /healthz ~6.9 -> ~3.8 ms.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.urls import set_script_prefix


class OneHopHandler(ASGIHandler):
    """ASGIHandler with a synchronous middleware chain, run for each request in one executor call."""

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)  # the chain stays synchronous: `_respond` calls it

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        response = await sync_to_async(self._respond, thread_sensitive=False)(scope, body_file)
        await self.send_response(response, send)
        if response.streaming:  # an asynchronous stream: closed once it is sent
            await sync_to_async(response.close, thread_sensitive=False)()

    def _respond(self, scope, body_file):
        """The response, computed (a synchronous stream read to its end) and, unless it streams
        asynchronously, closed."""
        try:
            set_script_prefix(get_script_prefix(scope))
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, response = self.create_request(scope, body_file)
            if request is not None:
                response = self._middleware_chain(request)
                response._handler_class = self.__class__
            if response.streaming and not response.is_async:
                response.streaming_content = list(response.streaming_content)
        finally:
            body_file.close()
        if not (response.streaming and response.is_async):
            response.close()
        return response
