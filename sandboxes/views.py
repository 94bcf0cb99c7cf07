"""Pages of a sandbox's own host, <slug>.<DEMO_DOMAIN>: the sandbox home and the hand-off into it.

Every page here is for the sandbox's owner, a colleague in its partner organisation, or staff, signed in
on this host (``sandbox_member_required``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from demoportal.models import User
from sandboxes.access import handoff_redeem
from sandboxes.middleware import portal_url
from sandboxes.models import Sandbox
from sandboxes.selectors import sandbox_is_visible_to


def sandbox_member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The owner, a colleague in the sandbox's partner organisation, or staff only. Someone not signed in
    on this host goes to the portal's sign-in, which leads to My sandboxes (its "Enter" signs them in
    here); anyone else gets 404, as if no such sandbox."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        sandbox: Sandbox = request.tenant  # type: ignore[attr-defined]
        if not request.user.is_authenticated:
            return redirect(f"{portal_url(request)}accounts/login/?{urlencode({'next': '/sandboxes/'})}")
        user = request.user
        if not (isinstance(user, User) and sandbox_is_visible_to(sandbox=sandbox, user=user)):
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
