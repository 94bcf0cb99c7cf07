"""What every HTML form of the project shares, so bad input gets the same answer everywhere:

- ``BaseForm`` / ``SingleValueFieldsMixin``: a field sent more than once (``slot=1&slot=2``) is an error
  beside that field, instead of Django silently taking the last value. Labels are phrases, without Django's
  trailing colon.
- ``FormRenderer`` (``FORM_RENDERER``): how every form of the portal is drawn, allauth's included: an error
  summary on top (``templates/forms/_error_summary.html``: ``role="alert"``, each entry a link to its field),
  then each field (``templates/forms/field.html``) with its label, help, errors (marked by an icon and a
  spoken "Error:", not by colour alone) and the input, which Django marks ``aria-invalid`` and points
  (``aria-describedby``) at its help and its errors.
- ``FormBodyMiddleware``: a POST to an HTML view whose body is not a form (JSON, text/plain, XML) gets 415
  saying so, instead of the view seeing an empty ``request.POST`` and drawing a blank form.
- ``bound_data``: the data to bind a form to: the POST even when empty (then every required field says so),
  ``None`` on a GET.
- ``next_path``: where to go back to after a form, validated before anything is stored.
- ``domain_error_show``: a service's refusal (``DomainError``) on the form that asked for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.forms.renderers import TemplatesSetting
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.datastructures import MultiValueDict
from django.utils.http import url_has_allowed_host_and_scheme

from demoportal.core.exceptions import DomainError

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Widgets that read a list of values under one name; every other field takes one.
MULTI_VALUE_WIDGETS = (forms.SelectMultiple, forms.MultipleHiddenInput)


class SingleValueFieldsMixin(forms.BaseForm):
    """For every form class, the project's and allauth's: a field sent more than once is ambiguous and
    refused, naming the field. Labels carry no "Label:" colon: they are phrases and questions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or not isinstance(self.data, MultiValueDict):
            return
        for name, field in self.fields.items():
            if isinstance(field.widget, MULTI_VALUE_WIDGETS):
                continue
            if len(self.data.getlist(self.add_prefix(name))) > 1:
                label = field.label or name.replace("_", " ").capitalize()
                self.add_error(name, f"“{label}” was sent more than once: send one value.")


class BaseForm(SingleValueFieldsMixin, forms.Form):
    """The base of every form of the project."""


class FormRenderer(TemplatesSetting):
    """``FORM_RENDERER``: Django's renderer reading the project's templates, so that ``{{ form }}`` and
    ``{{ form.<field>.as_field_group }}`` draw every form the same way (allauth's too, through
    ``templates/allauth/elements/fields.html``). Needs ``django.forms`` installed for the widgets' templates."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"


def bound_data(request: HttpRequest) -> QueryDict | None:
    """What to bind a form to: the POST, even an empty one (a blank form would hide that nothing came)."""
    return request.POST if request.method == "POST" else None


def domain_error_show(form: forms.BaseForm, error: DomainError, *, fields: Mapping[str, str] | None = None) -> None:
    """Put a service's refusal on ``form``: each message beside the field it names (``fields`` maps the
    service's argument names to the form's, e.g. ``{"asset_id": "asset"}``), a message for anything else above
    the form; when no message names a field of the form, the refusal's sentence goes above it as well."""
    fields = fields or {}
    above: list[str] = []
    for field, problems in error.errors.items():
        target = fields.get(field, field)
        if target in form.fields:
            form.add_error(target, problems)
        else:
            above += problems
    if len(above) == sum(len(problems) for problems in error.errors.values()):  # none beside a field
        above.insert(0, error.detail)
    for message in dict.fromkeys(above):  # once each, in order
        form.add_error(None, message)


def next_path(request: HttpRequest, *, default: str) -> str:
    """``next`` (POST, else query) when it is a path on this host — "/materials/", not "materials",
    "//evil.example" or "https://…" — else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    same_host_path = target.startswith("/") and not target.startswith("//") and "\\" not in target
    if same_host_path and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


class FormBodyMiddleware:
    """A POST, PUT or PATCH with a body to a view that is not DRF's must carry a form; anything else is
    415 with a page saying what the form takes. DRF's views (``view.cls``) parse their own bodies."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if request.method not in ("POST", "PUT", "PATCH") or hasattr(view, "cls"):
            return None
        if not int(request.META.get("CONTENT_LENGTH") or 0):
            return None  # nothing sent: the form says which fields are missing
        if request.content_type in FORM_CONTENT_TYPES:
            return None
        context = {"content_type": request.content_type or "none"}
        return render(request, "415.html", context, status=415)
