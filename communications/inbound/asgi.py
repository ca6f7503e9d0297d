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

from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response
from django.utils.module_loading import import_string

PREFIX = "/communications/inbound/"
MIDDLEWARE = ("django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware")


class WebhookHandler(ASGIHandler):
    """Django's ASGI handler with MIDDLEWARE above instead of settings.MIDDLEWARE, run synchronously
    (the views are sync): one `sync_to_async` from the event loop for the whole request."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self._middleware_chain = self.adapt_method_mode(is_async, handler, False)


def webhooks_apart(app):
    """An ASGI app: HTTP requests under PREFIX to the webhooks' handler, everything else to `app`."""
    webhooks = WebhookHandler()

    async def dispatch(scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(PREFIX):
            await webhooks(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch
