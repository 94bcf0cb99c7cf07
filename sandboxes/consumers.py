"""WebSocket consumers on a sandbox's host. ``scope["sandbox"]`` is set by SandboxFromHostMiddleware."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context


def database_schema(schema_name: str) -> str:
    """The schema PostgreSQL itself resolves to inside ``schema_context(schema_name)``."""
    with schema_context(schema_name), connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return str(cursor.fetchone()[0])


class SandboxPingConsumer(AsyncJsonWebsocketConsumer):
    """`{"type": "ping"}` → `{"type": "pong", ...}`, round-tripped through the Redis channel layer.

    Proves the whole realtime path of a sandbox: host routing, the channel layer, and database access
    inside the sandbox's schema from an async consumer.
    """

    async def connect(self) -> None:
        await self.accept()

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
