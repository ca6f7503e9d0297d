"""ASGI entry point: HTTP through Django, WebSockets through the one consumer (daphne serves both, or
uvicorn: scripts/stack.py WEB_SERVER). Each HTTP request's synchronous part is one call on the event
loop's executor (hvaccrm/handler.py), not a thread of its own.

A web server process gets a bounded database pool (DB_POOL_MAX, default 8 here; hvaccrm/settings.py)
and admission control (hvaccrm/admission.py): at most WEB_CONCURRENT_REQUESTS (default 4) HTTP
requests inside Django at once, the rest waiting in the event loop up to WEB_QUEUE_SECONDS (default
10) and then answered 503 with Retry-After. 0 turns either off. A socket's synchronous work runs on
one of WS_SYNC_THREADS (default 4) threads, not on the one thread channels gives all sockets.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
# Read when the settings load (below, unless a test loaded them first): the web process pools its
# connections; other processes default to none, so the variable is not left for children to inherit.
_POOL_DEFAULT = "DB_POOL_MAX" not in os.environ
if _POOL_DEFAULT:
    os.environ["DB_POOL_MAX"] = "8"

import django  # noqa: E402

django.setup(set_prefix=False)  # what get_asgi_application() does before making Django's handler

from hvaccrm.handler import OneHopHandler  # noqa: E402

# Each request's synchronous part in one executor call, not a thread per request (hvaccrm/handler.py).
django_asgi_app = OneHopHandler()
if _POOL_DEFAULT:
    del os.environ["DB_POOL_MAX"]

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from hvaccrm.admission import AdmissionLimit, SocketLanes  # noqa: E402
from hvaccrm.realtime.routing import websocket_urlpatterns  # noqa: E402

# ASGI_HTTP_WRAPPERS (settings), innermost first, wrap Django's HTTP app, as MIDDLEWARE wraps views:
# the gateways' signed webhooks go through communications' lean handler that way.
http_app = django_asgi_app
for _wrapper in settings.ASGI_HTTP_WRAPPERS:
    http_app = import_string(_wrapper)(http_app)

application = ProtocolTypeRouter(
    {
        "http": AdmissionLimit(http_app, limit=int(os.environ.get("WEB_CONCURRENT_REQUESTS", "4")),
                               wait=float(os.environ.get("WEB_QUEUE_SECONDS", "10"))),
        # Origin is checked inside the consumer so that it can answer with close code 4403.
        # Each socket's database work on one of WS_SYNC_THREADS threads (default 4), not all on one.
        "websocket": SocketLanes(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
                                 lanes=int(os.environ.get("WS_SYNC_THREADS", "4"))),
    }
)
