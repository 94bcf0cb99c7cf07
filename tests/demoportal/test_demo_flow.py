"""From a verified account to a running sandbox: demo selection, and the prospect's own sandboxes page."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from analytics.models import Event
from demoportal.core import catalogue
from demoportal.core.models import User
from demoportal.portal.forms import DemoSelectionForm
from demoportal.portal.views import estimated_tour_minutes
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_provision

pytestmark = pytest.mark.django_db
CHOICE = {"product": "emissionsguardian", "industry": "chemicals", "role": "executive"}


def signed_in(client: Client, email: str = "buyer@chem.example", *, verified: bool = True) -> User:
    user = User.objects.create_user(email=email, password="pw", role="executive")
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    client.force_login(user)
    return user


def test_choosing_a_demo_hands_the_prospect_into_a_ready_sandbox(client: Client) -> None:
    user = signed_in(client)
    page = client.get("/demo/", HTTP_HOST="localhost")
    assert page.status_code == 200
    assert b"EmissionsGuardian" in page.content
    assert b"Demo Chemical Plant" in page.content or b"Chemical" in page.content

    response = client.post("/demo/", CHOICE, HTTP_HOST="localhost")

    sandbox = Sandbox.objects.get(owner=user)
    assert (sandbox.status, sandbox.product, sandbox.industry, sandbox.role) == (
        "ready",
        "emissionsguardian",
        "chemicals",
        "executive",
    )
    assert response.status_code == 302
    assert response["Location"].startswith(f"http://{sandbox.slug}.localhost/enter/")
    assert Event.objects.filter(user=user, name="demo_started", sandbox=sandbox).exists()


@pytest.mark.parametrize("field", ["product", "industry", "role"])
def test_a_tampered_choice_is_a_form_error_and_nothing_is_made(client: Client, field: str) -> None:
    signed_in(client)

    response = client.post("/demo/", {**CHOICE, field: "something-else"}, HTTP_HOST="localhost")

    assert response.status_code == 400
    assert field in response.context["form"].errors
    html = response.content.decode()
    # In the summary above the form, linked to the group's first choice; the group points at its error.
    assert re.search(rf'<div class="error-summary" role="alert".*<a href="#id_{field}_0">', html, re.S)
    assert f'class="form-field-invalid" aria-describedby="id_{field}_error"' in html
    assert f'<ul class="errorlist field-errors" id="id_{field}_error">' in html
    assert re.search(rf'<input type="radio" name="{field}" id="id_{field}_0" [^>]*aria-invalid="true"', html)
    assert not Sandbox.objects.filter(kind="demo", owner__email="buyer@chem.example").exists()


def test_an_unverified_prospect_is_asked_to_verify_first(client: Client) -> None:
    signed_in(client, verified=False)

    page = client.get("/demo/", HTTP_HOST="localhost")

    assert page.status_code == 403
    assert b"verify your e-mail" in page.content
    assert b"/accounts/email/" in page.content


def test_when_every_sandbox_is_busy_the_page_says_so_and_offers_a_retry(client: Client, settings: Any) -> None:
    settings.MAX_ACTIVE_SANDBOXES = 0
    signed_in(client)

    response = client.post("/demo/", CHOICE, HTTP_HOST="localhost")

    assert response.status_code == 400
    assert b"All demo sandboxes are in use right now" in response.content
    assert b'role="alert"' in response.content
    assert b"Try again" in response.content


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get("/demo/", HTTP_HOST="localhost")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_my_sandboxes_lists_mine_and_runs_extend_reset_end(client: Client) -> None:
    user = signed_in(client)
    sandbox = sandbox_provision(email=user.email, product="thermalcommand", industry="steel").sandbox
    expires = sandbox.expires_at

    page = client.get("/sandboxes/", HTTP_HOST="localhost")
    assert page.status_code == 200
    assert sandbox.name.encode() in page.content

    assert client.post(f"/sandboxes/{sandbox.pk}/extend", HTTP_HOST="localhost").status_code == 302
    sandbox.refresh_from_db()
    assert (sandbox.expires_at - expires).total_seconds() == 24 * 3600  # type: ignore[operator]
    client.post(f"/sandboxes/{sandbox.pk}/reset", HTTP_HOST="localhost")
    assert sandbox.audit_entries.filter(action="reset", actor_label=user.email).exists()
    entered = client.post(f"/sandboxes/{sandbox.pk}/enter", HTTP_HOST="localhost")
    assert entered["Location"].startswith(f"http://{sandbox.slug}.localhost/enter/")
    client.post(f"/sandboxes/{sandbox.pk}/end", HTTP_HOST="localhost")
    sandbox.refresh_from_db()
    assert sandbox.status == "destroyed"


def test_someone_elses_sandbox_is_404_and_actions_need_a_post(client: Client) -> None:
    signed_in(client)
    theirs = sandbox_provision(email="other@plant.example", product="thermalcommand", industry="steel").sandbox

    assert client.post(f"/sandboxes/{theirs.pk}/end", HTTP_HOST="localhost").status_code == 404
    assert client.get(f"/sandboxes/{theirs.pk}/end", HTTP_HOST="localhost").status_code == 405
    theirs.refresh_from_db()
    assert theirs.status == "ready"


def test_a_refused_action_is_explained_and_an_unknown_one_is_404(client: Client) -> None:
    user = signed_in(client)
    sandbox = sandbox_provision(email=user.email, product="thermalcommand", industry="steel").sandbox
    Sandbox.objects.filter(pk=sandbox.pk).update(status="resetting")

    page = client.post(f"/sandboxes/{sandbox.pk}/reset", HTTP_HOST="localhost", follow=True)

    assert b"A sandbox that is resetting cannot be reset." in page.content
    assert client.post(f"/sandboxes/{sandbox.pk}/explode", HTTP_HOST="localhost").status_code == 404


def test_every_option_shows_its_estimated_tour_length(client: Client) -> None:
    signed_in(client)

    page = client.get("/demo/", HTTP_HOST="localhost").content.decode()

    # Each product card lists the tour per role across the industries' plants, each role card the span across
    # products and plants: the catalogue's estimates, derived from the tours (tests/demoportal/test_tours.py).
    for product in catalogue.products():
        spans = [catalogue.tour_minutes_span(product=product["key"], role=role["key"]) for role in catalogue.roles()]
        cells = [
            f'{role["name"]}&nbsp;<span data-tour-minutes="{product["key"]}.{role["key"]}">{written(span)}</span>'
            "&nbsp;min"
            for role, span in zip(catalogue.roles(), spans, strict=True)
        ]
        assert "Estimated tour: " + " · ".join(cells) in page
    for role in catalogue.roles():
        span = written(catalogue.tour_minutes_span(role=role["key"]))
        assert f'data-tour-role="{role["key"]}">Estimated tour: {span} min' in page
    # The line for the chosen product × role is empty until both are chosen (the script fills it in).
    assert '<p class="tour-estimate" data-tour-estimate aria-live="polite" hidden>' in page
    figures = json.loads(page.split('<script id="tour-minutes" type="application/json">', 1)[1].split("</script>")[0])
    assert figures["emissionsguardian"]["executive"]["cement"] == catalogue.tour_minutes(
        product="emissionsguardian", role="executive", industry="cement"
    )


def written(span: tuple[int, int]) -> str:
    return str(span[0]) if span[0] == span[1] else f"{span[0]}–{span[1]}"


def test_the_estimate_follows_the_chosen_product_role_and_industry() -> None:
    exact = estimated_tour_minutes(DemoSelectionForm(CHOICE))
    no_plant = estimated_tour_minutes(DemoSelectionForm({**CHOICE, "industry": "atlantis"}))
    no_role = estimated_tour_minutes(DemoSelectionForm({**CHOICE, "role": ""}))

    assert exact == str(catalogue.tour_minutes(product="emissionsguardian", role="executive", industry="chemicals"))
    assert no_plant == written(catalogue.tour_minutes_span(product="emissionsguardian", role="executive"))
    assert no_role is None


def test_the_estimate_is_shown_when_the_form_comes_back(client: Client) -> None:
    signed_in(client)

    response = client.post("/demo/", {**CHOICE, "industry": "atlantis"}, HTTP_HOST="localhost")

    assert response.status_code == 400
    # No plant chosen (a tampered one is none): the span across the industries' plants.
    span = written(catalogue.tour_minutes_span(product="emissionsguardian", role="executive"))
    assert f"Estimated tour: <strong>{span}</strong> min".encode() in response.content


def test_tour_minutes_come_from_the_catalogue_for_a_known_product_role_and_industry() -> None:
    by_industry = [
        catalogue.tour_minutes(product="thermalcommand", role="engineer", industry=key) for key in catalogue.scenarios()
    ]
    by_product = [
        catalogue.tour_minutes(product=product["key"], role="operator", industry=key)
        for product in catalogue.products()
        for key in catalogue.scenarios()
    ]

    assert catalogue.tour_minutes_span(product="thermalcommand", role="engineer") == (
        min(by_industry),
        max(by_industry),
    )
    assert catalogue.tour_minutes_span(role="operator") == (min(by_product), max(by_product))
    for wrong in (
        {"product": "nothing", "role": "engineer", "industry": "cement"},
        {"product": "thermalcommand", "role": "ceo", "industry": "cement"},
        {"product": "thermalcommand", "role": "engineer", "industry": "atlantis"},
    ):
        with pytest.raises(KeyError):
            catalogue.tour_minutes(**wrong)
    with pytest.raises(KeyError):
        catalogue.tour_minutes_span(product="nothing")
