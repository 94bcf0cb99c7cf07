from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from sandboxes.access import handoff_redeem
from sandboxes.middleware import portal_url


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
