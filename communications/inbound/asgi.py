"""The gateways' webhooks through a Django handler of their own, with a short middleware list.

A webhook is anonymous and answers JSON (or TwiML) to a gateway: it reads no session, user or OTP
device, sets no cookie, shows no message, serves no static file, and is not a staff read (the access
trail records those), nor a login (axes). Django's full stack still ran for it: every middleware.
Here the webhooks' requests go through `SecurityMiddleware` (HTTPS redirect and HSTS as everywhere) and
`CommonMiddleware` (the host check and the slash), then the view, all in one thread hop
(`hvaccrm.handler.OneHopHandler`, as the site's other requests); the URL is resolved by the site's
URLconf as before. Every other path goes to the site's application untouched.

Wiring: `ASGI_HTTP_WRAPPERS` in the settings, which hvaccrm/asgi.py applies to Django's HTTP app.
"""

from __future__ import annotations

from django.core.handlers.exception import convert_exception_to_response
from django.utils.module_loading import import_string

from hvaccrm.handler import OneHopHandler

PREFIX = "/communications/inbound/"
MIDDLEWARE = ("django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware")


class WebhookHandler(OneHopHandler):
    """The core's one-hop handler (the request's synchronous part in one executor call) with
    MIDDLEWARE above instead of settings.MIDDLEWARE."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self._middleware_chain = handler  # synchronous: called from `_respond` in a worker thread


def webhooks_apart(app):
    """An ASGI app: HTTP requests under PREFIX to the webhooks' handler, everything else to `app`."""
    webhooks = WebhookHandler()

    async def dispatch(scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(PREFIX):
            await webhooks(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch
