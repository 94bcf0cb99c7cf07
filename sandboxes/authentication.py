"""DRF authentication and permissions for a sandbox's own API token (``Authorization: Bearer <token>``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from sandboxes.access import sandbox_for_token
from sandboxes.models import Sandbox


class SandboxTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates as the sandbox's owner, with ``request.auth`` the sandbox: valid for that sandbox only."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Sandbox] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as: Authorization: Bearer <token>.")
        sandbox = sandbox_for_token(header[1].decode())
        if sandbox is None or sandbox.owner is None or sandbox.status != Sandbox.Status.READY:
            raise exceptions.AuthenticationFailed("Unknown or retired sandbox token.")
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
    return request.auth if isinstance(request.auth, Sandbox) else None


class SandboxTokenForItsOwnSandbox(permissions.BasePermission):
    """A sandbox token reaches its own sandbox (``sandbox_id`` in the URL) only: another's is 404. Anyone
    else must be signed in; ``sandbox_for`` then shows staff every sandbox and a prospect only their own."""

    def has_permission(self, request: Request, view: Any) -> bool:
        sandbox = token_sandbox(request)
        if sandbox is not None:
            if sandbox.pk != view.kwargs.get("sandbox_id"):
                raise exceptions.NotFound("No sandbox with this id.")  # another sandbox's: never reveal it
            return True
        return bool(request.user and request.user.is_authenticated)


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
