"""One behaviour for bad input on every HTML form (demoportal/core/webforms.py): a field sent twice is an error
naming it; a body that is no form is 415; ``next`` is a path on this host or the default; a service's refusal
lands beside the field it names."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django import forms
from django.conf import settings
from django.test import Client
from django.utils.module_loading import import_string

from demoportal import urls, urls_sandbox  # noqa: F401  # loads every view, and so every form class
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from demoportal.core.webforms import BaseForm, SingleValueFieldsMixin, domain_error_show

PROJECT_APPS = ("analytics", "crm", "demoportal", "sandboxes", "simulation")


def project_forms() -> list[type[forms.BaseForm]]:
    found, pending = [], [forms.BaseForm]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in PROJECT_APPS and cls.__module__ != "demoportal.core.webforms":
            found.append(cls)
    return found


def test_every_form_of_the_project_and_every_allauth_form_we_configure_refuses_repeated_fields() -> None:
    classes = project_forms() + [import_string(path) for path in settings.ACCOUNT_FORMS.values()]

    assert len(classes) > 10
    assert [cls for cls in classes if not issubclass(cls, SingleValueFieldsMixin)] == []


class Choices(BaseForm):
    one = forms.CharField()
    many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")])


def test_a_field_that_takes_several_values_still_takes_them() -> None:
    from django.http import QueryDict

    form = Choices(QueryDict("one=x&many=a&many=b"))

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"one": "x", "many": ["a", "b"]}


def test_a_field_sent_twice_is_an_error_naming_it() -> None:
    from django.http import QueryDict

    form = Choices(QueryDict("one=x&one=y&many=a"))

    assert not form.is_valid()
    assert list(form.errors) == ["one"]
    assert "sent more than once" in form.errors["one"][0]


@pytest.mark.django_db
def test_sign_in_with_the_email_sent_twice_is_an_error_beside_it(client: Client) -> None:
    user = User.objects.create_user(email="ann@plant.example", password="pw-long-enough-1")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    response = client.post(
        "/accounts/login/",
        "login=ann@plant.example&login=bob@plant.example&password=pw-long-enough-1",
        content_type="application/x-www-form-urlencoded",
        HTTP_HOST="localhost",
    )

    assert response.status_code == 200  # allauth draws the form again
    assert "sent more than once" in str(response.context["form"].errors["login"])
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_password_reset_with_the_email_sent_twice_is_an_error_and_sends_no_mail(client: Client) -> None:
    from django.core import mail

    response = client.post(
        "/accounts/password/reset/",
        "email=ann@plant.example&email=bob@plant.example",
        content_type="application/x-www-form-urlencoded",
        HTTP_HOST="localhost",
    )

    assert response.status_code == 200  # the form again, not "we sent a mail"
    assert "sent more than once" in str(response.context["form"].errors["email"])
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_json_body_to_a_portal_form_is_415_and_json_to_the_api_is_not(client: Client) -> None:
    client.force_login(User.objects.create_user(email="ann@plant.example", password="pw", is_staff=True))

    page = client.post(
        "/demo/", '{"product": "thermalcommand"}', content_type="application/json", HTTP_HOST="localhost"
    )
    api = client.post("/api/v1/events", '{"event": "nonsense"}', content_type="application/json", HTTP_HOST="localhost")

    assert page.status_code == 415
    assert b"This page takes a form" in page.content
    assert api.status_code == 400


class Slot(BaseForm):
    slot = forms.IntegerField()
    note = forms.CharField(required=False)


def bound_valid_slot() -> Slot:
    form = Slot({"slot": "3"})
    assert form.is_valid()
    return form


def test_a_refusal_naming_a_field_of_the_form_is_shown_beside_it_and_not_above() -> None:
    form = bound_valid_slot()
    domain_error_show(
        form,
        DomainError("Someone has just booked this time.", errors={"slot_id": ["Taken."]}),
        fields={"slot_id": "slot"},
    )
    assert form.errors == {"slot": ["Taken."]}


def test_a_refusal_naming_no_field_of_the_form_is_shown_above_with_its_sentence_once() -> None:
    form = bound_valid_slot()
    error = DomainError("Version 3 is active.", errors={"rule_set": ["Only a draft.", "Version 3 is active."]})
    domain_error_show(form, error)
    assert form.non_field_errors() == ["Version 3 is active.", "Only a draft."]
    assert "slot" not in form.errors


def test_a_refusal_naming_one_field_of_the_form_and_another_shows_the_other_above_without_the_sentence() -> None:
    form = bound_valid_slot()
    domain_error_show(form, DomainError("Two problems.", errors={"slot": ["Gone."], "sandbox": ["Ended."]}))
    assert form.errors == {"slot": ["Gone."], "__all__": ["Ended."]}


def test_a_refusal_with_no_field_messages_is_its_sentence_above_the_form() -> None:
    form = bound_valid_slot()
    domain_error_show(form, DomainError("The plant is stopped."))
    assert form.errors == {"__all__": ["The plant is stopped."]}
