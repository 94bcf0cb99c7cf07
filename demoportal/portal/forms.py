"""Forms of the portal host."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from demoportal.core import catalogue
from demoportal.core.models import User
from demoportal.core.webforms import BaseForm
from sandboxes.models import Sandbox

CONTACT_CONSENT_TEXT = (
    "I agree that the vendor may contact me by e-mail or phone about its products and this demo. "
    "I can withdraw this at any time."
)


def role_choices() -> list[tuple[str, str]]:
    return [(role["key"], role["name"]) for role in catalogue.roles()]


class SignupForm(BaseForm):
    """The prospect's profile, asked for on allauth's sign-up page beside e-mail and password.

    allauth calls ``signup`` once the account exists; the consent is stored with its time and the
    version of the wording shown (CONTACT_CONSENT_VERSION).
    """

    field_order = [
        *("email", "password1", "password2", "company", "job_title", "role", "company_size", "country", "phone"),
    ]

    company = forms.CharField(max_length=200)
    job_title = forms.CharField(max_length=200)
    role = forms.ChoiceField(choices=lambda: [("", "Choose your role"), *role_choices()])
    company_size = forms.ChoiceField(
        required=False, choices=[("", "Company size (optional)"), *User.CompanySize.choices], label="Company size"
    )
    country = LazyTypedChoiceField(choices=lambda: [("", "Choose your country"), *countries])
    phone = forms.CharField(
        max_length=32, required=False, help_text="Optional, with the country code: +44 20 7946 0958"
    )
    contact_consent = forms.BooleanField(
        label=CONTACT_CONSENT_TEXT,
        error_messages={"required": "Please agree to be contacted: a salesperson follows up every demo."},
    )

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
        user.company = data["company"]
        user.job_title = data["job_title"]
        user.role = data["role"]
        user.country = data["country"]
        user.company_size = data.get("company_size", "")
        user.phone = data["phone"]
        user.contact_consent_at = timezone.now()
        user.contact_consent_version = settings.CONTACT_CONSENT_VERSION
        user.personal_email = catalogue.is_personal_email(user.email)
        user.save()


PARTNER_PURPOSES = [
    (Sandbox.Purpose.TRAINING.value, "For my own training"),
    (Sandbox.Purpose.CUSTOMER_DEMO.value, "On behalf of a customer"),
]


class DemoSelectionForm(BaseForm):
    """Product × industry × role in one step; every value must come from the catalogue.

    A partner user (``partner=True``) also says what the sandbox is for: their training, or a demo on
    behalf of a customer, whose company is then required.
    """

    product = forms.ChoiceField(choices=lambda: [(p["key"], p["name"]) for p in catalogue.products()])
    industry = forms.ChoiceField(
        choices=lambda: [(key, scenario.name) for key, scenario in sorted(catalogue.scenarios().items())]
    )
    role = forms.ChoiceField(choices=role_choices)
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
