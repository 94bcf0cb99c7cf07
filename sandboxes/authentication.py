"""DRF authentication and permissions for a sandbox's own API token (``Authorization: Bearer <token>``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.selectors import sandboxes_visible_to
from sandboxes.tokens import TOKEN_LIVE_STATUSES, sandbox_for_token


class SandboxTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates as the sandbox's owner, with ``request.auth`` the sandbox the token is bound to. What
    the token may reach is decided by the two permissions below, nowhere else."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Sandbox] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as: Authorization: Bearer <token>.")
        sandbox = sandbox_for_token(header[1].decode())
        if sandbox is None or sandbox.owner is None or sandbox.status not in TOKEN_LIVE_STATUSES:
            raise exceptions.AuthenticationFailed("Unknown or ended sandbox token.")
        return sandbox.owner, sandbox

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class SandboxTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the OpenAPI schema documents the sandbox token."""

    target_class = SandboxTokenAuthentication
    name = "sandboxToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A sandbox's own access token (that sandbox only)."}


def token_sandbox(request: Request) -> Sandbox | None:
    """The sandbox a request's Bearer token is bound to; None for any other credential."""
    return request.auth if isinstance(request.auth, Sandbox) else None


def endpoint_sandbox_id(request: Request, view: Any) -> int | None:
    """The sandbox an endpoint acts on: the URL's ``sandbox_id``, else the sandbox whose own host this is;
    None on the portal without an id (``POST /api/v1/events``: the body names it, ``sandboxes_reachable``)."""
    if view.kwargs.get("sandbox_id") is not None:
        return int(view.kwargs["sandbox_id"])
    host_sandbox = getattr(request, "tenant", None)  # set by SandboxHostMiddleware; DRF passes it through
    if isinstance(host_sandbox, Sandbox) and host_sandbox.kind == Sandbox.Kind.DEMO:
        return int(host_sandbox.pk)
    return None


class SandboxScoped(permissions.BasePermission):
    """For the endpoints that act on one sandbox (its lifecycle, plant data, overlays, clock, events, tour):
    a sandbox token reaches its own sandbox only (another's is 404, never revealed). Anyone else must be
    signed in; what they may see is ``sandboxes_reachable``'s."""

    def has_permission(self, request: Request, view: Any) -> bool:
        sandbox = token_sandbox(request)
        if sandbox is None:
            return bool(request.user and request.user.is_authenticated)
        target = endpoint_sandbox_id(request, view)
        if target is not None and target != sandbox.pk:
            raise exceptions.NotFound("No sandbox with this id.")
        return True


class RefusesSandboxTokens(permissions.BasePermission):
    """Every endpoint that is not ``SandboxScoped`` (the default, DEFAULT_PERMISSION_CLASSES): a sandbox
    token is not its owner's account, so it lists, creates and signs in nothing (403)."""

    message = "A sandbox token works only for its own sandbox's endpoints."

    def has_permission(self, request: Request, view: Any) -> bool:
        return token_sandbox(request) is None


def sandboxes_reachable(request: Request) -> QuerySet[Sandbox]:
    """The demo sandboxes this request may act on: a token's own sandbox, else those its signed-in user may
    see (staff every one, a partner user their organisation's, a prospect their own)."""
    sandbox = token_sandbox(request)
    if sandbox is not None:
        own: QuerySet[Sandbox] = Sandbox.objects.filter(kind=Sandbox.Kind.DEMO, pk=sandbox.pk)
        return own.exclude(status=Sandbox.Status.POOLED)
    if not isinstance(request.user, User):
        raise exceptions.NotAuthenticated()
    return sandboxes_visible_to(user=request.user)


DEMO_READ_ONLY_MESSAGE = (
    "This is a demo plant: its equipment, sensors and history can't be changed or deleted. "
    "Try the actions the tour offers, or reset the sandbox to start again."
)


class DemoPlantIsReadOnly(permissions.BasePermission):
    """Demo restriction: nobody changes or deletes a sandbox's plant master data through the API; an
    attempt is 403 with a friendly message (checked before the method, so never a bare 405)."""

    message = DEMO_READ_ONLY_MESSAGE

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in permissions.SAFE_METHODS
