"""The calls to action on a sandbox's host: request pricing, start a POC, book a sales call, materials.

Every page is for the sandbox's owner or staff (``sandbox_member_required``); forms post to themselves,
show errors beside their fields (status 400) and, once stored, say so and go back where the prospect was.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from crm import services
from crm.forms import PocRequestForm, PricingRequestForm, SalesCallForm, slot_label, slot_taken_message
from demoportal.core import catalogue
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from demoportal.core.webforms import bound_data, next_path
from sandboxes.access import host_acting, host_sandbox, portal_url, sandbox_member_required

PRODUCT_SHEET_MAX_AGE = 7 * 24 * 3600  # generated from the read-only catalogue: the same until a deploy


def _next_url(request: HttpRequest) -> str:
    """Where to go back to after a form: ``next`` when it is a page of this host, else the sandbox home."""
    return next_path(request, default="/")


def _page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    sandbox = host_sandbox(request)
    base = {"sandbox": sandbox, "portal_url": portal_url(request), "next": _next_url(request)}
    return render(request, template, {**base, **context}, status=status)


def _status(form: forms.Form) -> int:
    return 400 if form.errors else 200


def _asks_consent(user: User) -> bool:
    """Whether the form must ask for the consent to be contacted: not given at sign-up nor since."""
    return user.contact_consent_at is None


@sandbox_member_required
def pricing_request(request: HttpRequest) -> HttpResponse:
    acting = host_acting(request)
    user, sandbox = acting.user, acting.sandbox
    form = PricingRequestForm(bound_data(request), ask_consent=_asks_consent(user))
    if request.method == "POST" and form.is_valid():
        back = _next_url(request)  # decided before anything is stored
        # The form asks for the consent to be contacted when the profile lacks it, so the service's own check
        # (contact_consent_require) passes for every valid form.
        services.pricing_request_create(
            user=user,
            sandbox=sandbox,
            contact_consent=form.cleaned_data.get("contact_consent", False),
            **form.request_fields(),
        )
        messages.success(request, "Thank you: sales will send you pricing within one business day.")
        return redirect(back)
    return _page(request, "crm/pricing.html", {"form": form, "profile": user}, status=_status(form))


@sandbox_member_required
def poc_request(request: HttpRequest) -> HttpResponse:
    acting = host_acting(request)
    user, sandbox = acting.user, acting.sandbox
    form = PocRequestForm(bound_data(request), ask_consent=_asks_consent(user))
    if request.method == "POST" and form.is_valid():
        back = _next_url(request)  # decided before anything is stored
        # The form asks for the consent to be contacted when the profile lacks it, so the service's own check
        # (contact_consent_require) passes for every valid form.
        services.poc_request_create(
            user=user,
            sandbox=sandbox,
            contact_consent=form.cleaned_data.get("contact_consent", False),
            **form.request_fields(),
        )
        messages.success(request, "Thank you: a solutions engineer will contact you to plan the proof of concept.")
        return redirect(back)
    return _page(request, "crm/poc.html", {"form": form, "profile": user}, status=_status(form))


@sandbox_member_required
def sales_call(request: HttpRequest) -> HttpResponse:
    acting = host_acting(request)
    user, sandbox = acting.user, acting.sandbox
    form = SalesCallForm(bound_data(request), ask_consent=_asks_consent(user))
    if request.method == "POST" and form.is_valid():
        back = _next_url(request)  # decided before anything is stored
        slot = form.cleaned_data["slot"]
        try:
            services.sales_call_book(
                user=user,
                sandbox=sandbox,
                slot=slot,
                message=form.cleaned_data["message"],
                contact_consent=form.cleaned_data.get("contact_consent", False),
            )
        except services.SlotTakenError:  # before or while this request ran
            # The slot list is read again when the page is drawn, so the time just taken is not offered.
            form.add_error("slot", slot_taken_message(slot))
        except DomainError as error:  # started already
            form.add_error("slot", f"{error.detail} Choose a later one.")
        else:
            messages.success(request, f"Your call is booked: {slot_label(slot)}. The invitation is in your inbox.")
            return redirect(back)
    return _page(request, "crm/call.html", {"form": form, "profile": user}, status=_status(form))


@sandbox_member_required
@require_GET
def materials(request: HttpRequest) -> HttpResponse:
    return _page(request, "crm/materials.html", {"products": catalogue.products()})


@sandbox_member_required
@require_POST
def report_download(request: HttpRequest) -> HttpResponse:
    """The sandbox's findings as a PDF, drawn now from its own data (POST: it records ``report_generated``)."""
    acting = host_acting(request)
    user, sandbox = acting.user, acting.sandbox
    try:
        filename, document = services.report_generate(sandbox=sandbox, user=user)
    except DomainError as error:
        messages.error(request, error.detail)
        return redirect("crm:materials")
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@sandbox_member_required
@require_GET
@cache_control(private=True, max_age=PRODUCT_SHEET_MAX_AGE)
def product_sheet(request: HttpRequest, product_key: str) -> HttpResponse:
    try:
        document = services.product_sheet_render(product_key=product_key)
    except DomainError as error:
        raise Http404(error.detail) from None
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{product_key}-product-sheet.pdf"'
    return response
