"""ASGI entry point: Django for HTTP, Channels consumers for websockets on sandbox hosts."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demoportal.settings.local")
django_asgi_app = get_asgi_application()  # before importing anything that touches models

from django.conf import settings  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

# Every request runs in a thread (and context) of its own here, so a connection kept for reuse is never
# reused: it stays open until garbage-collected, and a burst exhausts PostgreSQL (docs/operations.md
# "Database connections"). This process borrows from a bounded pool instead.
if settings.DATABASES["default"]["CONN_MAX_AGE"] != 0 and not settings.DATABASES["default"]["OPTIONS"].get("pool"):
    raise ImproperlyConfigured(
        "the web process keeps database connections (DATABASE_CONN_MAX_AGE) without a pool: set DATABASE_POOL=true"
        " for it, as the Procfile does"
    )

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware  # noqa: E402

from sandboxes.consumers import SandboxPingConsumer  # noqa: E402
from sandboxes.middleware import SandboxFromHostMiddleware  # noqa: E402
from simulation.consumers import LiveConsumer  # noqa: E402

websocket_urlpatterns = [
    path("ws/ping/", SandboxPingConsumer.as_asgi()),
    path("ws/live/", LiveConsumer.as_asgi()),
]

# The client's address and scheme from X-Forwarded-For/-Proto, believed only from TRUSTED_PROXIES (settings).
application = ProxyHeadersMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(
                SandboxFromHostMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
            ),
        }
    ),
    trusted_hosts=settings.TRUSTED_PROXIES,
)
