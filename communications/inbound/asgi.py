"""The gateways' webhooks through a Django handler of their own, with a short middleware list.

A webhook is anonymous and answers JSON (or TwiML) to a gateway: it reads no session, user or OTP
device, sets no cookie, shows no message, serves no static file, and is not a staff read (the access
trail records those), nor a login (axes). Django's full stack still ran for it: every middleware,
and under ASGI a sync stack in a thread of its own plus two more thread hops around the view
(`async_to_sync` into the async inner handler, `sync_to_async` back for the sync view). Here the
webhooks' requests go through `SecurityMiddleware` (HTTPS redirect and HSTS as everywhere) and
`CommonMiddleware` (the host check and the slash), then the view, all in one thread hop; the URL is
resolved by the site's URLconf as before. Every other path goes to the site's application untouched.

Wiring: `ASGI_HTTP_WRAPPERS` in the settings, which hvaccrm/asgi.py applies to Django's HTTP app.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.urls import set_script_prefix
from django.utils.module_loading import import_string

PREFIX = "/communications/inbound/"
MIDDLEWARE = ("django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware")


class WebhookHandler(ASGIHandler):
    """Django's ASGI handler with MIDDLEWARE above instead of settings.MIDDLEWARE, the request's whole
    synchronous part (request_started, the middleware and the view, the response's close with
    request_finished) in ONE call on a thread of the event loop's executor.

    Django's own `ASGIHandler.__call__` opens a `ThreadSensitiveContext` per request (a new
    single-thread executor, so a new thread started and joined per request) and hops to it three
    times (the started signal, the view, the close), with a task listening for the client's
    disconnect beside the view's. A webhook's view is short, synchronous and needs none of that:
    its answer is computed in one go and sent from the loop."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self._middleware_chain = handler  # synchronous: called from `_respond` in a worker thread

    async def __call__(self, scope, receive, send) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        response = await sync_to_async(self._respond, thread_sensitive=False)(scope, body_file)
        await self.send_response(response, send)
        if response.streaming:  # never a webhook's answer; closed after its content was sent
            await sync_to_async(response.close, thread_sensitive=False)()

    def _respond(self, scope, body_file):
        """The response, and closed unless streamed (request_finished: the database connection
        goes back to the pool before the answer is sent, not after)."""
        try:
            set_script_prefix(get_script_prefix(scope))
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, response = self.create_request(scope, body_file)
            if request is not None:
                response = self._middleware_chain(request)
                response._handler_class = self.__class__
        finally:
            body_file.close()
        if not response.streaming:
            response.close()
        return response


def webhooks_apart(app):
    """An ASGI app: HTTP requests under PREFIX to the webhooks' handler, everything else to `app`."""
    webhooks = WebhookHandler()

    async def dispatch(scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(PREFIX):
            await webhooks(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch
