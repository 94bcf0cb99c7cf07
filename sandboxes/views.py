"""Pages of a sandbox's own host, <slug>.<DEMO_DOMAIN>: the sandbox home and the hand-off into it.

Every page here is for the sandbox's owner, or staff, signed in on this host (``sandbox_member_required``).
"""

from __future__ import annotations

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from sandboxes.access import handoff_redeem, host_sandbox, portal_url, sandbox_member_required
from sandboxes.pages import self_service


@require_POST
@sandbox_member_required
def sandbox_action(request: HttpRequest, action: str) -> HttpResponse:
    """The owner's self-service from the sandbox's own pages: extend by a day, reset, or end it."""
    sandbox = host_sandbox(request)
    self_service(request, sandbox=sandbox, action=action)
    if sandbox.has_ended:
        return redirect(f"{portal_url(request)}sandboxes/")
    return redirect("sandbox:home")


def sandbox_enter(request: HttpRequest, token: str) -> HttpResponse:
    """The ``access_url`` hand-off: signs the owner (or staff, opening it from the admin) in on this
    sandbox's host, once, then to the home page."""
    sandbox = host_sandbox(request)
    user = handoff_redeem(token=token, sandbox=sandbox)
    if user is None:
        context = {"sandbox": sandbox, "sign_in_url": f"{portal_url(request)}accounts/login/"}
        return render(request, "sandbox/link_used.html", context, status=403)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("sandbox:home")


@require_POST
def sandbox_sign_out(request: HttpRequest) -> HttpResponse:
    """Signs out of this sandbox's host, then on to the portal's sign-out (its session is another)."""
    logout(request)
    return redirect(f"{portal_url(request)}accounts/logout/")
