"""WebSocket consumers on a sandbox's host. ``scope["sandbox"]`` is set by SandboxFromHostMiddleware.

Every socket is for the sandbox's members only (``SandboxMemberConsumer``): the session on its host
(owner, partner colleague, staff) or ``?token=<the sandbox's access token>``. Anyone else is accepted and
closed at once with 4403, so the browser can tell "not allowed" from a network failure.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from sandboxes.access import member_allowed
from sandboxes.models import Sandbox

# WebSocket close code for "you may not see this sandbox" (4xxx mirrors HTTP 4xx; 4404 is "no such sandbox").
CLOSE_FORBIDDEN = 4403


class SandboxMemberConsumer(AsyncJsonWebsocketConsumer):
    """Admits the sandbox's members (``member_allowed``) and closes anyone else's socket with 4403; a
    subclass's ``member_connect`` runs for a member once accepted."""

    async def connect(self) -> None:
        sandbox: Sandbox = self.scope["sandbox"]
        token = parse_qs(self.scope.get("query_string", b"").decode()).get("token", [None])[0]
        allowed = await database_sync_to_async(member_allowed)(
            sandbox=sandbox, user=self.scope.get("user"), token=token
        )
        await self.accept()  # first, so the close code reaches the browser
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.member_connect(sandbox)

    async def member_connect(self, sandbox: Sandbox) -> None:
        """What a member's socket starts with; nothing by default."""


def database_schema(schema_name: str) -> str:
    """The schema PostgreSQL itself resolves to inside ``schema_context(schema_name)``."""
    with schema_context(schema_name), connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return str(cursor.fetchone()[0])


class SandboxPingConsumer(SandboxMemberConsumer):
    """`{"type": "ping"}` → `{"type": "pong", ...}`, round-tripped through the Redis channel layer.

    Proves the whole realtime path of a sandbox: host routing, the channel layer, and database access
    inside the sandbox's schema from an async consumer.
    """

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "ping":
            await self.send_json({"type": "error", "detail": 'Send {"type": "ping"}.'})
            return
        sandbox = self.scope["sandbox"]
        schema = await database_sync_to_async(database_schema)(sandbox.schema_name)
        await self.channel_layer.send(
            self.channel_name,
            {"type": "sandbox.pong", "sandbox": sandbox.slug, "schema": schema, "ts": timezone.now().isoformat()},
        )

    async def sandbox_pong(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "pong", "sandbox": event["sandbox"], "schema": event["schema"], "ts": event["ts"]}
        )
