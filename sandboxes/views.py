"""Pages of a sandbox's own host, <slug>.<DEMO_DOMAIN>: the sandbox home and the hand-off into it.

Every page here is for the sandbox's owner, or staff, signed in on this host (``sandbox_member_required``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from demoportal.exceptions import DomainError
from demoportal.models import User
from sandboxes.access import handoff_redeem
from sandboxes.middleware import portal_url
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_destroy, sandbox_extend, sandbox_reset


def sandbox_member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The owner or staff only. Someone not signed in on this host goes to the portal's sign-in, which
    leads to My sandboxes (its "Enter" signs them in here); anyone else gets 404, as if no such sandbox."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        sandbox: Sandbox = request.tenant  # type: ignore[attr-defined]
        if not request.user.is_authenticated:
            return redirect(f"{portal_url(request)}accounts/login/?{urlencode({'next': '/sandboxes/'})}")
        if not (request.user.is_staff or sandbox.owner_id == request.user.pk):
            raise Http404("No such sandbox.")
        return view(request, *args, **kwargs)

    return guarded


@sandbox_member_required
def sandbox_home(request: HttpRequest) -> HttpResponse:
    return render(request, "sandbox/home.html", {"sandbox": request.tenant})  # type: ignore[attr-defined]


def sandbox_enter(request: HttpRequest, token: str) -> HttpResponse:
    """The ``access_url`` hand-off: signs the owner (or staff, opening it from the admin) in on this
    sandbox's host, once, then to the home page."""
    sandbox = request.tenant  # type: ignore[attr-defined]
    user = handoff_redeem(token=token, sandbox=sandbox)
    if user is None:
        context = {"sandbox": sandbox, "sign_in_url": f"{portal_url(request)}accounts/login/"}
        return render(request, "sandbox/link_used.html", context, status=403)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("sandbox:home")


@sandbox_member_required
@require_POST
def sandbox_action(request: HttpRequest, action: str) -> HttpResponse:
    """Extend by a day, reset or end this sandbox from its own header (minimal; to merge with main's)."""
    sandbox: Sandbox = request.tenant  # type: ignore[attr-defined]
    user = request.user
    assert isinstance(user, User)
    try:
        if action == "extend":
            sandbox_extend(sandbox=sandbox, hours=24, actor=user)
            messages.success(request, f"{sandbox.name} now runs until {sandbox.expires_at:%d %b %H:%M} UTC.")
        elif action == "reset":
            sandbox_reset(sandbox=sandbox, actor=user)
            messages.success(request, f"{sandbox.name} is back at the start of its scenario.")
        elif action == "end":
            sandbox_destroy(sandbox=sandbox, actor=user)
            return redirect(f"{portal_url(request)}sandboxes/")
        else:
            raise Http404("No such action.")
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect("sandbox:home")
