"""What the pages of any app do with a sandbox in front of the user (no routes here: the portal's My sandboxes
and the sandbox's own host both use it)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest

from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import SELF_SERVICE_ACTIONS, sandbox_self_service


def self_service(request: HttpRequest, *, sandbox: Sandbox, action: str) -> None:
    """``sandbox_self_service`` for the signed-in user; what happened (or why not) goes to their messages.
    An unknown action is a 404."""
    if action not in SELF_SERVICE_ACTIONS:
        raise Http404("No such action.")
    user = request.user if isinstance(request.user, User) else None
    try:
        messages.success(request, sandbox_self_service(sandbox=sandbox, action=action, actor=user))
    except DomainError as error:
        messages.error(request, error.detail)
