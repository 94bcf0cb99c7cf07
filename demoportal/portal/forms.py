"""Forms of the portal host."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import forms
from django.http import HttpRequest
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from demoportal.core import catalogue
from demoportal.core.forms import contact_consent_field
from demoportal.core.models import User
from demoportal.core.services import contact_consent_record
from demoportal.core.webforms import BaseForm
from sandboxes.models import Sandbox

NAME_MAX = 150  # User.first_name and last_name


def role_choices() -> list[tuple[str, str]]:
    return [(role["key"], role["name"]) for role in catalogue.roles()]


class SignupForm(BaseForm):
    """The prospect's name and profile, asked for on allauth's sign-up page beside e-mail and password (and on
    the LinkedIn newcomer's page, where allauth fills in the name LinkedIn gave).

    allauth calls ``signup`` once the account exists. The consent to be contacted is optional and unticked:
    the demo never depends on it. Given, it is stored with its time and the version of the wording shown
    (CONTACT_CONSENT_VERSION), and the prospect becomes a lead; not given, they get their demo and are never
    scored nor synced to a CRM (the calls to action ask again).
    """

    field_order = [
        *("first_name", "last_name", "email", "password1", "password2"),
        *("company", "job_title", "role", "company_size", "country", "phone", "contact_consent"),
    ]

    first_name = forms.CharField(
        label="First name",
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": "Enter your first name."},
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        error_messages={"required": "Enter your last name."},
    )
    company = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
        error_messages={"required": "Enter the name of your company."},
    )
    job_title = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
        error_messages={"required": "Enter your job title."},
    )
    role = forms.ChoiceField(
        choices=lambda: [("", "Choose your role"), *role_choices()],
        error_messages={"required": "Choose the role closest to yours."},
    )
    company_size = forms.ChoiceField(
        required=False, choices=[("", "Company size (optional)"), *User.CompanySize.choices], label="Company size"
    )
    country = LazyTypedChoiceField(
        choices=lambda: [("", "Choose your country"), *countries],
        widget=forms.Select(attrs={"autocomplete": "country"}),
        error_messages={"required": "Choose the country you work in."},
    )
    phone = forms.CharField(
        max_length=32,
        required=False,
        help_text="Optional, with the country code: +44 20 7946 0958",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    contact_consent = contact_consent_field(required=False)

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"].strip()
        if not phone:
            return ""
        try:
            number = phonenumbers.parse(phone, self.data.get("country") or None)
        except phonenumbers.NumberParseException:
            raise forms.ValidationError("Enter a phone number with its country code, e.g. +44 20 7946 0958.") from None
        if not phonenumbers.is_valid_number(number):
            raise forms.ValidationError("This is not a valid phone number; check the digits and the country code.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def signup(self, request: HttpRequest, user: User) -> None:
        data = self.cleaned_data
        user.first_name = data["first_name"]
        user.last_name = data["last_name"]
        user.company = data["company"]
        user.job_title = data["job_title"]
        user.role = data["role"]
        user.country = data["country"]
        user.company_size = data.get("company_size", "")
        user.phone = data["phone"]
        user.personal_email = catalogue.is_personal_email(user.email)
        user.save()
        if data.get("contact_consent"):
            contact_consent_record(user=user)


PARTNER_PURPOSES = [
    (Sandbox.Purpose.TRAINING.value, "For my own training"),
    (Sandbox.Purpose.CUSTOMER_DEMO.value, "On behalf of a customer"),
]


class DemoSelectionForm(BaseForm):
    """Product × industry × role in one step; every value must come from the catalogue.

    A partner user (``partner=True``) also says what the sandbox is for: their training, or a demo on
    behalf of a customer, whose company is then required.
    """

    # Radio buttons, as the page draws them (cards with the catalogue's descriptions): the error summary links
    # to a group's first one (id_<field>_0).
    product = forms.ChoiceField(
        choices=lambda: [(p["key"], p["name"]) for p in catalogue.products()],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the product to try."},
    )
    industry = forms.ChoiceField(
        choices=lambda: [(key, scenario.name) for key, scenario in sorted(catalogue.scenarios().items())],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the industry closest to your plant."},
    )
    role = forms.ChoiceField(
        choices=role_choices, widget=forms.RadioSelect, error_messages={"required": "Choose your role."}
    )
    purpose = forms.ChoiceField(choices=PARTNER_PURPOSES, widget=forms.RadioSelect)
    customer_company = forms.CharField(
        max_length=200, required=False, label="Customer's company", help_text="Required for a customer demo."
    )

    def __init__(self, *args: Any, partner: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not partner:
            del self.fields["purpose"]
            del self.fields["customer_company"]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("purpose") == Sandbox.Purpose.CUSTOMER_DEMO and not cleaned.get("customer_company", "").strip():
            self.add_error("customer_company", "Name the customer this demo is for.")
        return cleaned
