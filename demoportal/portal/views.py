import email
import email.policy
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from demoportal.core import catalogue
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from demoportal.core.webforms import bound_data, domain_error_show
from demoportal.portal.forms import DemoSelectionForm
from sandboxes.access import access_url
from sandboxes.models import Sandbox
from sandboxes.pages import self_service
from sandboxes.selectors import sandboxes_visible_to
from sandboxes.services import sandbox_provision


def landing(request: HttpRequest) -> HttpResponse:
    scenarios = sorted(catalogue.scenarios().values(), key=lambda s: s.industry)
    return render(request, "portal/landing.html", {"products": catalogue.products(), "scenarios": scenarios})


def dev_mailbox(request: HttpRequest) -> HttpResponse:
    """Development only: the mail the file backend wrote (newest first), with clickable links, so a
    newcomer can verify an account with no SMTP server. Routed only when DEV_MAILBOX is on (local settings)."""
    return render(request, "portal/mailbox.html", {"messages": mailbox_read(Path(settings.EMAIL_FILE_PATH))})


def mailbox_read(folder: Path) -> list[dict[str, str]]:
    """The messages in the file backend's folder, newest first: {subject, to, date, body}."""
    found = []
    for path in sorted(folder.glob("*.log"), reverse=True) if folder.is_dir() else []:
        # The file backend writes each message followed by a line of 79 dashes.
        for raw in reversed(path.read_bytes().split(b"\n" + b"-" * 79 + b"\n")):
            if not raw.strip():
                continue
            message = email.message_from_bytes(raw, policy=email.policy.default)
            body = message.get_body(preferencelist=("plain", "html"))
            found.append(
                {
                    "subject": str(message["subject"] or ""),
                    "to": str(message["to"] or ""),
                    "date": str(message["date"] or ""),
                    "body": body.get_content() if body is not None else "",
                }
            )
    return found


@login_required
def demo_new(request: HttpRequest) -> HttpResponse:
    """Choose product × industry × role; on submit the sandbox is provisioned (a pool claim or a clone,
    well under a second) and the prospect is handed into it. A refusal (all sandboxes busy) shows the
    reason beside a retry; the prospect's active demo of that product is reused, not duplicated."""
    user = request.user
    assert isinstance(user, User)
    if not EmailAddress.objects.filter(user=user, verified=True).exists() and not user.is_staff:
        return render(request, "portal/verify_first.html", status=403)
    partner = user.active_partner
    form = DemoSelectionForm(
        bound_data(request), initial={"role": user.role or "engineer"}, partner=partner is not None
    )
    if request.method == "POST" and form.is_valid():
        try:
            provisioned = sandbox_provision(
                email=user.email,
                product=form.cleaned_data["product"],
                industry=form.cleaned_data["industry"],
                role=form.cleaned_data["role"],
                actor=user,
                partner=partner,
                purpose=form.cleaned_data.get("purpose", Sandbox.Purpose.EVALUATION),
                customer_company=form.cleaned_data.get("customer_company", ""),
            )
        except DomainError as error:
            domain_error_show(form, error)
        else:
            # The prospect goes in by the link; the API token the sandbox got is for API callers, never shown here.
            return redirect(access_url(sandbox=provisioned.sandbox, request=request))
    context = {
        "form": form,
        "partner": partner,
        "products": [
            {
                **product,
                "tours": [
                    {
                        "role": role["key"],
                        "name": role["name"],
                        "minutes": minutes_text(product=product["key"], role=role["key"]),
                    }
                    for role in catalogue.roles()
                ],
            }
            for product in catalogue.products()
        ],
        "scenarios": sorted(catalogue.scenarios().values(), key=lambda s: s.name),
        "roles": [{**role, "tour_minutes": minutes_text(role=role["key"])} for role in catalogue.roles()],
        "tour_minutes": catalogue.catalogue()[1]["tour_minutes"],
        "estimated_minutes": estimated_tour_minutes(form),
    }
    return render(request, "portal/demo_new.html", context, status=400 if form.errors else 200)


def minutes_text(*, product: str | None = None, role: str | None = None) -> str:
    """A tour estimate across what is not chosen, as the page writes it: "5", or "3–10" (minutes)."""
    low, high = catalogue.tour_minutes_span(product=product, role=role)
    return str(low) if low == high else f"{low}–{high}"


def estimated_tour_minutes(form: DemoSelectionForm) -> str | None:
    """The tour length for the product and role the form shows chosen ("5"), on the chosen industry's plant, or
    across the industries while none is chosen ("3–10"); None until product and role are catalogue values."""
    product, role, industry = (str(form[name].value()) for name in ("product", "role", "industry"))
    try:
        return str(catalogue.tour_minutes(product=product, role=role, industry=industry))
    except KeyError:
        pass
    try:
        return minutes_text(product=product, role=role)
    except KeyError:
        return None


@login_required
def my_sandboxes(request: HttpRequest) -> HttpResponse:
    """The prospect's sandboxes, with their state and time left; for a partner user, every sandbox of
    their partner organisation, with its owner and purpose."""
    user = request.user
    assert isinstance(user, User)
    partner = user.active_partner
    visible = sandboxes_visible_to(user=user) if partner is not None else Sandbox.objects.filter(owner=user)
    sandboxes = list(visible.filter(kind=Sandbox.Kind.DEMO).select_related("owner").order_by("-created_at"))
    context = {"sandboxes": sandboxes, "now": timezone.now(), "partner": partner}
    return render(request, "portal/my_sandboxes.html", context)


@login_required
@require_POST
def my_sandbox_action(request: HttpRequest, sandbox_id: int, action: str) -> HttpResponse:
    """Enter, extend by a day, reset or end one of the user's own sandboxes, or for a partner user one
    of their organisation's (anyone else's: 404)."""
    user = request.user
    assert isinstance(user, User)
    mine = Sandbox.objects.filter(owner=user, kind=Sandbox.Kind.DEMO)
    visible = sandboxes_visible_to(user=user) if user.active_partner is not None else mine
    sandbox = get_object_or_404(visible, pk=sandbox_id)
    if action == "enter":
        return redirect(access_url(sandbox=sandbox, request=request, member=user))
    self_service(request, sandbox=sandbox, action=action)
    return redirect("portal:my-sandboxes")
