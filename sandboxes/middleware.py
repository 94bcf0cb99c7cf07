"""Which sandbox a request is for, from its Host header: HTTP (django-tenants) and websockets (ASGI)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.template.loader import render_to_string
from django_tenants.middleware.main import TenantMainMiddleware

from demoportal.core.exceptions import DomainError
from demoportal.core.outage import database_unavailable
from sandboxes.access import portal_url
from sandboxes.models import Sandbox
from sandboxes.selectors import sandbox_for_host
from sandboxes.usage import request_record

# WebSocket close code for "no such sandbox" (4000-4999 are the application's own; 4xxx mirrors HTTP 4xx).
CLOSE_NOT_FOUND = 4404
# The standard close code for "the server cannot serve you now; try again later" (PostgreSQL unreachable).
CLOSE_TRY_AGAIN_LATER = 1013


def host_not_found(request: HttpRequest, hostname: str) -> HttpResponse:
    """The friendly 404 for a host that is no sandbox, with a link to the portal."""
    context = {"hostname": hostname, "portal_url": portal_url(request)}
    return HttpResponseNotFound(render_to_string("host_not_found.html", context))


class SandboxHostMiddleware(TenantMainMiddleware):
    """django-tenants' routing, with a friendly 404 page for a host that is no sandbox (instead of a bare 404)."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            request.get_host()
        except DisallowedHost:
            return host_not_found(request, request.META.get("HTTP_HOST", ""))
        response: HttpResponse | None = super().process_request(request)
        sandbox = getattr(request, "tenant", None)
        if response is None and sandbox is not None and sandbox.status == Sandbox.Status.POOLED:
            connection.set_schema_to_public()  # type: ignore[attr-defined]  # nobody's sandbox yet
            return host_not_found(request, request.get_host())
        if response is None and sandbox is not None and sandbox.has_ended:
            connection.set_schema_to_public()  # type: ignore[attr-defined]  # its schema is gone
            context = {"sandbox": sandbox, "portal_url": portal_url(request)}
            return HttpResponse(render_to_string("sandbox_gone.html", context), status=410)
        if response is None and sandbox is not None and sandbox.kind == "demo":
            try:
                request_record(sandbox=sandbox)
            except DomainError as error:
                too_many = HttpResponse(error.detail, status=error.status_code, content_type="text/plain")
                too_many["Retry-After"] = str(error.retry_after)
                return too_many
        return response

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse:
        return host_not_found(request, hostname)


def host_from_scope(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return str(value.decode("latin-1").split(":")[0].lower())
    return ""


class SandboxFromHostMiddleware:
    """ASGI middleware for websockets: puts the sandbox named by the Host header in ``scope["sandbox"]``.

    A host that is no sandbox (the portal's included) is accepted and closed at once with 4404, so the
    client can tell "no such sandbox" from a network failure.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        try:
            sandbox = await database_sync_to_async(sandbox_for_host)(host_from_scope(scope))
        except DatabaseError as exc:
            if not database_unavailable(exc):
                raise
            return await close_websocket(receive, send, CLOSE_TRY_AGAIN_LATER)  # the client reconnects later
        if sandbox is None or sandbox.kind != "demo" or sandbox.status != "ready":
            return await close_websocket(receive, send, CLOSE_NOT_FOUND)
        return await self.inner({**scope, "sandbox": sandbox}, receive, send)


async def close_websocket(receive: Any, send: Any, code: int) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": code})
