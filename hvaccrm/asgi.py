"""ASGI entry point: HTTP through Django, WebSockets through the one consumer (daphne serves both)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from hvaccrm.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin is checked inside the consumer so that it can answer with close code 4403.
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
