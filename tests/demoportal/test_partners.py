"""Partner organisations: enrolment by verified domain, training and customer demos with attribution,
and each partner seeing its own sandboxes only (portal pages, the sandbox host, the REST API)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.test import Client
from rest_framework.test import APIClient

from analytics.models import Event
from demoportal.core.exceptions import DomainError
from demoportal.core.models import Partner, User
from sandboxes.access import handoff_token
from sandboxes.models import Sandbox
from sandboxes.services import pool_claim, sandbox_create, sandbox_provision

pytestmark = pytest.mark.django_db
CHOICE: dict[str, Any] = {"product": "thermalcommand", "industry": "steel", "role": "engineer"}


@pytest.fixture
def acme() -> Partner:
    return Partner.objects.create(name="Acme Integrators", slug="acme", email_domains=["acme-int.example"])


@pytest.fixture
def globex() -> Partner:
    return Partner.objects.create(name="Globex Consulting", slug="globex", email_domains=["globex.example"])


def member(partner: Partner | None, email: str) -> User:
    user = User.objects.create_user(email=email, password="pw", partner=partner)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def signed_in(client: Client, user: User) -> User:
    client.force_login(user)
    return user


def api(user: User) -> APIClient:
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(user)
    return client


def training(user: User, product: str = "thermalcommand") -> Sandbox:
    partner = user.active_partner
    return sandbox_provision(
        email=user.email, product=product, industry="steel", partner=partner, purpose="training"
    ).sandbox


# Partners in the admin, and enrolment ----------------------------------------------------------------


def test_a_partners_domains_are_normalised_and_refused_when_free_mail_or_taken(acme: Partner) -> None:
    partner = Partner(name="Initech", slug="initech", email_domains=[" Initech.EXAMPLE", "@initech.example"])
    partner.full_clean()
    assert partner.email_domains == ["initech.example"]

    for domains, message in [
        (["gmail.com"], "free-mail domain"),
        (["acme-int.example"], "already belongs to Acme Integrators"),
        (["not a domain"], "Enter a domain"),
    ]:
        with pytest.raises(ValidationError) as error:
            Partner(name="Initech", slug="initech", email_domains=domains).full_clean()
        assert message in str(error.value.message_dict["email_domains"])


def test_the_admin_refuses_a_bad_domain_beside_the_field_and_creates_nothing(client: Client) -> None:
    client.force_login(User.objects.create_superuser(email="root@vendor.example", password="pw"))
    form = {"name": "Initech", "slug": "initech", "email_domains": "gmail.com", "is_active": "on"}
    inline = {"members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0"}

    response = client.post("/admin/demoportal/partner/add/", {**form, **inline}, HTTP_HOST="localhost")

    assert response.status_code == 200
    assert "free-mail domain" in str(response.context["adminform"].form.errors["email_domains"])
    assert not Partner.objects.filter(slug="initech").exists()
    created = client.post(
        "/admin/demoportal/partner/add/", {**form, "email_domains": "initech.example", **inline}, HTTP_HOST="localhost"
    )
    assert created.status_code == 302
    assert Partner.objects.get(slug="initech").email_domains == ["initech.example"]


def test_the_partner_admin_lists_members_and_finds_a_partner_by_domain(client: Client, acme: Partner) -> None:
    member(acme, "ann@acme-int.example")
    client.force_login(User.objects.create_superuser(email="root@vendor.example", password="pw"))

    found = client.get("/admin/demoportal/partner/?q=ACME-INT.example", HTTP_HOST="localhost")
    change = client.get(f"/admin/demoportal/partner/{acme.pk}/change/", HTTP_HOST="localhost")

    assert found.context["cl"].result_count == 1
    assert b"ann@acme-int.example" in change.content
    assert (
        b'name="partner"'
        in client.get(
            f"/admin/demoportal/user/{User.objects.get(email='ann@acme-int.example').pk}/change/", HTTP_HOST="localhost"
        ).content
    )  # staff can also set a user's partner by hand


def test_confirming_an_address_at_a_partners_domain_enrols_the_user(client: Client, acme: Partner) -> None:
    signup = {
        "first_name": "Bob",
        "last_name": "Brandt",
        "email": "bob@acme-int.example",
        "password1": "Heat-Recovery-2026",
        "password2": "Heat-Recovery-2026",
        "company": "Acme Integrators",
        "job_title": "Solutions engineer",
        "role": "engineer",
        "country": "DE",
        "contact_consent": "on",
    }
    assert client.post("/accounts/signup/", signup, HTTP_HOST="localhost").status_code == 302
    user = User.objects.get(email="bob@acme-int.example")
    assert user.partner is None  # not before the address is verified

    path = re.search(r"http://localhost(/accounts/confirm-email/\S+)", str(mail.outbox[0].body))
    assert path is not None
    assert client.post(path.group(1), HTTP_HOST="localhost").status_code == 302

    user.refresh_from_db()
    assert user.partner == acme


@pytest.mark.parametrize("case", ["inactive partner", "other domain", "already in a partner"])
def test_confirmation_enrols_no_one_else(acme: Partner, globex: Partner, case: str) -> None:
    from allauth.account.signals import email_confirmed

    email = "eve@elsewhere.example" if case == "other domain" else "eve@acme-int.example"
    if case == "inactive partner":
        Partner.objects.filter(pk=acme.pk).update(is_active=False)
    user = User.objects.create_user(email=email, password="pw", partner=globex if "already" in case else None)
    address = EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)

    email_confirmed.send(sender=EmailAddress, request=None, email_address=address)

    user.refresh_from_db()
    assert user.partner == (globex if "already" in case else None)


def test_a_partner_with_members_cannot_be_deleted(acme: Partner) -> None:
    member(acme, "ann@acme-int.example")

    with pytest.raises(ProtectedError), transaction.atomic():
        acme.delete()


# Choosing a demo as a partner user -------------------------------------------------------------------


def test_a_partner_user_makes_a_customer_demo_attributed_to_the_partner(client: Client, acme: Partner) -> None:
    user = signed_in(client, member(acme, "ann@acme-int.example"))
    page = client.get("/demo/", HTTP_HOST="localhost")
    assert b"What is this sandbox for?" in page.content
    assert b"On behalf of a customer" in page.content

    body = {**CHOICE, "purpose": "customer_demo", "customer_company": "Steelworks Ltd"}
    response = client.post("/demo/", body, HTTP_HOST="localhost")

    assert response.status_code == 302
    sandbox = Sandbox.objects.get(owner=user)
    assert (sandbox.partner, sandbox.purpose, sandbox.customer_company) == (acme, "customer_demo", "Steelworks Ltd")
    assert Event.objects.get(name="demo_started", sandbox=sandbox).partner == acme


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"purpose": "customer_demo", "customer_company": "  "}, "customer_company", "Name the customer"),
        ({"purpose": "customer_demo"}, "customer_company", "Name the customer"),
        ({"purpose": "evaluation"}, "purpose", "Select a valid choice"),
        ({}, "purpose", "required"),
    ],
)
def test_a_partner_users_bad_purpose_is_a_form_error_and_nothing_is_made(
    client: Client, acme: Partner, changes: dict[str, str], field: str, message: str
) -> None:
    signed_in(client, member(acme, "ann@acme-int.example"))

    response = client.post("/demo/", {**CHOICE, **changes}, HTTP_HOST="localhost")

    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert f'id="id_{field}' in response.content.decode() or field == "purpose"
    assert not Sandbox.objects.filter(owner__email="ann@acme-int.example").exists()


def test_a_prospect_is_not_asked_for_a_purpose_and_cannot_claim_one(client: Client) -> None:
    user = signed_in(client, member(None, "pat@plant.example"))
    assert b"What is this sandbox for?" not in client.get("/demo/", HTTP_HOST="localhost").content

    client.post("/demo/", {**CHOICE, "purpose": "training", "customer_company": "X"}, HTTP_HOST="localhost")

    sandbox = Sandbox.objects.get(owner=user)
    assert (sandbox.partner, sandbox.purpose, sandbox.customer_company) == (None, "evaluation", "")


def test_an_inactive_partners_users_act_as_prospects(client: Client, acme: Partner) -> None:
    user = signed_in(client, member(acme, "ann@acme-int.example"))
    Partner.objects.filter(pk=acme.pk).update(is_active=False)

    client.post("/demo/", CHOICE, HTTP_HOST="localhost")

    assert Sandbox.objects.get(owner=user).partner is None


@pytest.mark.parametrize(
    ("partner", "purpose", "customer", "field"),
    [
        (None, "training", "", "purpose"),
        ("acme", "evaluation", "", "purpose"),
        ("acme", "customer_demo", "", "customer_company"),
        ("acme", "sightseeing", "", "purpose"),
        ("inactive", "training", "", "purpose"),
    ],
)
def test_the_service_refuses_a_purpose_that_does_not_fit(
    acme: Partner, partner: str | None, purpose: str, customer: str, field: str
) -> None:
    if partner == "inactive":
        acme.is_active = False
    with pytest.raises(DomainError) as error:
        sandbox_provision(
            email="ann@acme-int.example",
            partner=acme if partner else None,
            purpose=purpose,
            customer_company=customer,
            **CHOICE,
        )
    assert field in error.value.errors
    assert not User.objects.filter(email="ann@acme-int.example").exists()


def test_the_database_refuses_a_customer_demo_without_a_customer(sandbox: Sandbox) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Sandbox.objects.filter(pk=sandbox.pk).update(purpose="customer_demo", customer_company="")


def test_a_pooled_clone_claimed_by_a_partner_user_carries_the_attribution(acme: Partner) -> None:
    user = member(acme, "ann@acme-int.example")
    sandbox_create(slug="pool-cement-partner", name="Cement", scenario="cement", pooled=True)

    claimed = pool_claim(
        industry="cement",
        owner=user,
        product="emissionsguardian",
        role="consultant",
        actor=user,
        partner=acme,
        purpose="customer_demo",
        customer_company="Cementos SA",
    )

    assert claimed is not None
    claimed.refresh_from_db()
    assert (claimed.partner, claimed.purpose, claimed.customer_company, claimed.owner) == (
        acme,
        "customer_demo",
        "Cementos SA",
        user,
    )


def test_a_partner_users_sandbox_counts_toward_one_active_per_product(acme: Partner) -> None:
    user = member(acme, "ann@acme-int.example")
    first = training(user)

    again = sandbox_provision(
        email=user.email, partner=acme, purpose="customer_demo", customer_company="Other Co", **CHOICE
    )

    assert (again.sandbox.pk, again.created) == (first.pk, False)


# Partners see only their own --------------------------------------------------------------------------


@pytest.fixture
def three_sandboxes(acme: Partner, globex: Partner) -> dict[str, Sandbox]:
    return {
        "colleague": training(member(acme, "carl@acme-int.example")),
        "other partner": training(member(globex, "gina@globex.example")),
        "prospect": sandbox_provision(email="pat@plant.example", **CHOICE).sandbox,
    }


def test_my_sandboxes_shows_a_partner_user_their_organisations_sandboxes(
    client: Client, acme: Partner, three_sandboxes: dict[str, Sandbox]
) -> None:
    signed_in(client, member(acme, "ann@acme-int.example"))

    page = client.get("/sandboxes/", HTTP_HOST="localhost")

    assert [s.pk for s in page.context["sandboxes"]] == [three_sandboxes["colleague"].pk]
    assert b"carl@acme-int.example" in page.content  # the owner column
    assert b"Partner training" in page.content
    assert b"gina@globex.example" not in page.content


def test_a_partner_user_runs_a_colleagues_sandbox_but_not_anyone_elses(
    client: Client, acme: Partner, three_sandboxes: dict[str, Sandbox]
) -> None:
    ann = signed_in(client, member(acme, "ann@acme-int.example"))
    colleague = three_sandboxes["colleague"]

    assert client.post(f"/sandboxes/{colleague.pk}/extend", HTTP_HOST="localhost").status_code == 302
    assert colleague.audit_entries.filter(action="extend", actor_label=ann.email).exists()
    for key in ("other partner", "prospect"):
        theirs = three_sandboxes[key]
        for action in ("enter", "extend", "reset", "end"):
            assert client.post(f"/sandboxes/{theirs.pk}/{action}", HTTP_HOST="localhost").status_code == 404
        theirs.refresh_from_db()
        assert (theirs.status, theirs.extensions) == ("ready", 0)


def test_entering_a_colleagues_sandbox_signs_in_the_colleague_not_the_owner(
    client: Client, acme: Partner, three_sandboxes: dict[str, Sandbox]
) -> None:
    signed_in(client, member(acme, "ann@acme-int.example"))
    colleague = three_sandboxes["colleague"]
    host = f"{colleague.slug}.localhost"

    link = client.post(f"/sandboxes/{colleague.pk}/enter", HTTP_HOST="localhost")["Location"]
    sandbox_client = Client()
    entered = sandbox_client.get(link.removeprefix(f"http://{host}"), HTTP_HOST=host)

    assert entered.status_code == 302
    assert sandbox_client.get("/", HTTP_HOST=host).status_code == 200
    assert sandbox_client.session["_auth_user_id"] == str(User.objects.get(email="ann@acme-int.example").pk)


def test_a_link_made_for_someone_outside_the_partner_signs_no_one_in(
    client: Client, globex: Partner, three_sandboxes: dict[str, Sandbox]
) -> None:
    colleague = three_sandboxes["colleague"]
    outsider = member(globex, "oscar@globex.example")
    host = f"{colleague.slug}.localhost"

    token = handoff_token(sandbox=colleague, member=outsider)

    assert client.get(f"/enter/{token}", HTTP_HOST=host).status_code == 403
    client.force_login(outsider)
    assert client.get("/", HTTP_HOST=host).status_code == 404  # the host itself refuses them too


def test_the_api_lists_a_partner_users_organisation_and_404s_the_rest(
    acme: Partner, three_sandboxes: dict[str, Sandbox], django_assert_max_num_queries: Any
) -> None:
    client = api(member(acme, "ann@acme-int.example"))

    with django_assert_max_num_queries(6):
        listed = client.get("/api/v1/sandboxes").json()["results"]

    assert [s["sandbox_id"] for s in listed] == [three_sandboxes["colleague"].pk]
    assert (listed[0]["partner"], listed[0]["purpose"], listed[0]["owner_email"]) == (
        "acme",
        "training",
        "carl@acme-int.example",
    )
    assert client.get(f"/api/v1/sandboxes/{three_sandboxes['colleague'].pk}").status_code == 200
    for key in ("other partner", "prospect"):
        theirs = three_sandboxes[key].pk
        assert client.get(f"/api/v1/sandboxes/{theirs}").status_code == 404
        assert client.post(f"/api/v1/sandboxes/{theirs}/reset").status_code == 404
        assert client.delete(f"/api/v1/sandboxes/{theirs}").status_code == 404


def test_a_prospect_still_cannot_list_sandboxes(three_sandboxes: dict[str, Sandbox]) -> None:
    prospect = User.objects.get(email="pat@plant.example")

    assert api(prospect).get("/api/v1/sandboxes").status_code == 403


def test_a_partner_user_creates_through_the_api_with_a_purpose(acme: Partner) -> None:
    client = api(member(acme, "ann@acme-int.example"))
    body = {"email": "ann@acme-int.example", **CHOICE}

    missing = client.post("/api/v1/sandboxes", body, format="json")
    no_customer = client.post("/api/v1/sandboxes", {**body, "purpose": "customer_demo"}, format="json")
    made = client.post(
        "/api/v1/sandboxes", {**body, "purpose": "customer_demo", "customer_company": "Mill Co"}, format="json"
    )

    assert missing.status_code == 400
    assert "purpose" in missing.json()["errors"]
    assert no_customer.status_code == 400
    assert "customer_company" in no_customer.json()["errors"]
    assert made.status_code == 201
    assert (made.json()["partner"], made.json()["customer_company"]) == ("acme", "Mill Co")


# Attribution -------------------------------------------------------------------------------------------


def test_events_carry_the_partner_of_the_sandbox_or_else_of_the_user(acme: Partner) -> None:
    ann = member(acme, "ann@acme-int.example")
    sandbox = training(ann)
    client = api(ann)

    in_sandbox = client.post("/api/v1/events", {"event": "feature_viewed", "sandbox_id": sandbox.pk}, format="json")
    on_portal = client.post("/api/v1/events", {"event": "page_view"}, format="json")
    prospect = api(member(None, "pat@plant.example")).post("/api/v1/events", {"event": "page_view"}, format="json")

    assert Event.objects.get(pk=in_sandbox.json()["id"]).partner == acme
    assert Event.objects.get(pk=on_portal.json()["id"]).partner == acme
    assert Event.objects.get(pk=prospect.json()["id"]).partner is None


def test_the_sandbox_admin_shows_and_filters_by_partner_and_purpose(
    client: Client, acme: Partner, three_sandboxes: dict[str, Sandbox]
) -> None:
    client.force_login(User.objects.create_superuser(email="root@vendor.example", password="pw"))

    everything = client.get("/admin/sandboxes/sandbox/", HTTP_HOST="localhost")
    only_acme = client.get(f"/admin/sandboxes/sandbox/?partner__id__exact={acme.pk}", HTTP_HOST="localhost")
    training_ = client.get("/admin/sandboxes/sandbox/?purpose__exact=training", HTTP_HOST="localhost")

    assert b"Acme Integrators" in everything.content
    assert b"Partner training" in everything.content
    assert [s.pk for s in only_acme.context["cl"].result_list] == [three_sandboxes["colleague"].pk]
    assert training_.context["cl"].result_count == 2


def test_my_sandboxes_for_a_partner_user_takes_a_bounded_number_of_queries(
    client: Client, acme: Partner, django_assert_max_num_queries: Any
) -> None:
    ann = signed_in(client, member(acme, "ann@acme-int.example"))
    for index in range(3):
        training(member(acme, f"colleague{index}@acme-int.example"))
    training(ann)

    with django_assert_max_num_queries(8):
        page = client.get("/sandboxes/", HTTP_HOST="localhost")

    assert len(page.context["sandboxes"]) == 4
