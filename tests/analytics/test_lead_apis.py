"""The staff API of leads and accounts (analytics/apis/leads.py): who may read it, its filters and their
errors, the order and pages, a lead's score breakdown after real events, and accounts rolled up by domain.

Leads are made as in production: a prospect who agreed to be contacted does things (``event_record``),
and each event scores their lead in the same call.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from analytics.models import Event, Lead, RuleSet
from analytics.services.events import event_record
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.tokens import access_token_issue

pytestmark = pytest.mark.django_db

PORTAL = "localhost"
slugs = count(1)


def api(user: User | None = None) -> APIClient:
    """An API client on the portal host, signed in with the user's DRF token (as staff's scripts are)."""
    client = APIClient(HTTP_HOST=PORTAL)
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def staff(group: str | None, email: str | None = None) -> User:
    user = User.objects.create_user(email=email or f"{group or 'ops'}@vendor.example".lower(), is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def prospect(email: str, role: str = "engineer", **fields: Any) -> User:
    """A prospect who agreed to be contacted: what they do makes them a lead."""
    return User.objects.create_user(email=email, role=role, contact_consent_at=timezone.now(), **fields)


def demo(user: User, product: str = "boileroptimizer", industry: str = "cement", **fields: Any) -> Sandbox:
    """A demo sandbox of ``user``'s: the row only (bulk_create makes no schema; nothing here reads its plant)."""
    n = next(slugs)
    made: list[Sandbox] = Sandbox.objects.bulk_create(
        [
            Sandbox(
                schema_name=f"leads_{n}",
                slug=f"leads-{n}",
                name=f"Lead plant {n}",
                industry=industry,
                product=product,
                owner=user,
                expires_at=timezone.now() + timedelta(hours=20),
                **fields,
            )
        ]
    )
    return made[0]


def did(user: User, name: str, sandbox: Sandbox | None = None, at: datetime | None = None, **properties: Any) -> Event:
    event, created = event_record(name=name, user=user, sandbox=sandbox, properties=properties, occurred_at=at)
    assert created
    return event


def lead_of(user: User) -> Lead:
    return Lead.objects.get(user=user)


@pytest.fixture
def sales() -> APIClient:
    return api(staff("Sales"))


@pytest.fixture
def leads() -> dict[str, User]:
    """Three leads: two engineers-and-executives at one business domain, one on free mail.

    - ``hot``: the executive at acme.example who requested pricing for BoilerOptimizer in the cement plant (MQL);
    - ``warm``: the engineer at acme.example who started and completed a ThermalCommand demo in steel;
    - ``cold``: a gmail.com operator who only started a demo.
    """
    hot = prospect("Exec@Acme.example", role="executive", company="Acme Cement", company_size="1000-4999")
    warm = prospect("eng@acme.example", role="engineer", company="Acme Cement")
    cold = prospect("someone@gmail.com", role="operator")
    hot_demo = demo(hot)
    did(hot, "demo_started", hot_demo)
    did(hot, "pricing_requested", hot_demo)
    warm_demo = demo(warm, product="thermalcommand", industry="steel")
    did(warm, "demo_started", warm_demo)
    did(warm, "demo_completed", warm_demo)
    did(cold, "demo_started", demo(cold, product="emissionsguardian", industry="oil_gas"))
    return {"hot": hot, "warm": warm, "cold": cold}


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


# --- who may read them --------------------------------------------------------------------------------


def endpoints(leads: dict[str, User]) -> list[str]:
    lead = lead_of(leads["hot"]).pk
    return ["/api/v1/leads", f"/api/v1/leads/{lead}", "/api/v1/accounts", "/api/v1/accounts/acme.example"]


@pytest.mark.parametrize("group", ["Sales", "Marketing"])
def test_sales_and_marketing_read_every_endpoint(leads: dict[str, User], group: str) -> None:
    client = api(staff(group))

    for path in endpoints(leads):
        assert client.get(path).status_code == 200, path


def test_a_superuser_reads_them_without_a_group(leads: dict[str, User]) -> None:
    client = api(User.objects.create_superuser(email="root@vendor.example"))

    for path in endpoints(leads):
        assert client.get(path).status_code == 200, path


def test_staff_of_no_lead_reading_group_and_prospects_are_refused(leads: dict[str, User]) -> None:
    not_staff_in_sales = User.objects.create_user(email="intern@vendor.example")  # the group alone is not enough
    not_staff_in_sales.groups.add(Group.objects.get(name="Sales"))
    other_staff, a_lead_themselves, intern = api(staff(None)), api(leads["hot"]), api(not_staff_in_sales)

    for path in endpoints(leads):
        for client in (other_staff, a_lead_themselves, intern):
            response = client.get(path)
            assert response.status_code == 403, path
            assert response.json() == {"detail": "Only Sales and Marketing can see leads and accounts.", "errors": {}}


def test_a_sandbox_token_is_refused_even_a_salespersons_own_sandbox(leads: dict[str, User]) -> None:
    salesperson = staff("Sales")
    token = access_token_issue(sandbox=demo(salesperson))
    client = APIClient(HTTP_HOST=PORTAL, HTTP_AUTHORIZATION=f"Bearer {token}")

    for path in endpoints(leads):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Exec@Acme.example".lower() not in response.content.decode().lower()


def test_anonymous_callers_are_asked_to_authenticate(leads: dict[str, User]) -> None:
    for path in endpoints(leads):
        response = api().get(path)
        assert response.status_code == 401, path
        assert set(response.json()) == {"detail", "errors"}


def test_a_session_of_sales_works_too(leads: dict[str, User]) -> None:
    client = Client(HTTP_HOST=PORTAL)
    client.force_login(staff("Sales"))

    assert client.get("/api/v1/leads").status_code == 200


def test_no_sandbox_host_serves_them(sandbox: Sandbox, leads: dict[str, User]) -> None:
    """Prospects' hosts have no staff API: the JSON 404 of a path no route matches."""
    client = api(staff("Sales"))

    for path in endpoints(leads):
        response = client.get(path, HTTP_HOST=f"{sandbox.slug}.localhost")
        assert response.status_code == 404, path
        assert response.json()["detail"] == "No such API endpoint."


# --- the list ------------------------------------------------------------------------------------------


def test_the_list_is_ordered_by_total_score_and_says_who_each_lead_is(sales: APIClient, leads: dict[str, User]) -> None:
    response = sales.get("/api/v1/leads")

    rows = response.json()["results"]
    assert ids(response) == [lead_of(leads[name]).pk for name in ("hot", "warm", "cold")]
    assert [row["total_score"] for row in rows] == sorted((row["total_score"] for row in rows), reverse=True)
    hot = rows[0]
    assert hot["email"] == "Exec@acme.example"  # the domain lower-cased by Django's normalize_email
    assert (hot["company"], hot["role"], hot["account_domain"]) == ("Acme Cement", "executive", "acme.example")
    assert hot["stage"] == "mql"
    assert hot["recommended_action"].startswith("Call today — requested pricing for BoilerOptimizer")
    assert hot["total_score"] == hot["fit_score"] + hot["engagement_score"]
    assert hot["engagement_score"] == 55  # demo started 5 + pricing 50, a moment ago
    assert (hot["products"], hot["industries"]) == (["boileroptimizer"], ["cement"])
    (sandbox,) = hot["sandboxes"]
    assert (sandbox["product"], sandbox["industry"], sandbox["status"]) == ("boileroptimizer", "cement", "ready")
    assert sandbox["expires_at"] is not None
    assert "breakdown" not in hot
    assert rows[2]["account_domain"] == ""  # free mail rolls up to nothing


def test_equal_scores_are_ordered_by_id(sales: APIClient) -> None:
    twins = [prospect(f"twin{n}@twins.example") for n in range(3)]
    for twin in twins:
        did(twin, "page_view")  # a lead with fit only: the same score for all three

    response = sales.get("/api/v1/leads")

    assert ids(response) == sorted(lead_of(twin).pk for twin in twins)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stage": "mql"}, ["hot"]),
        ({"stage": "lead"}, ["warm", "cold"]),
        ({"stage": "sql"}, []),
        ({"product": "thermalcommand"}, ["warm"]),
        ({"product": "wasteheatrecovery"}, []),
        ({"industry": "oil_gas"}, ["cold"]),
        ({"industry": "cement"}, ["hot"]),
        ({"account_domain": "acme.example"}, ["hot", "warm"]),
        ({"account_domain": "ACME.example"}, ["hot", "warm"]),
        ({"account_domain": "gmail.com"}, []),  # free mail has no account
        ({"account_domain": " "}, []),  # matched as sent, not refused
        ({"email": "EXEC@acme.EXAMPLE"}, ["hot"]),
        ({"email": "nobody@acme.example"}, []),
        ({"stage": "lead", "account_domain": "acme.example"}, ["warm"]),
        ({"stage": ""}, ["hot", "warm", "cold"]),  # sent empty: not sent
    ],
)
def test_each_filter(sales: APIClient, leads: dict[str, User], query: dict[str, str], expected: list[str]) -> None:
    response = sales.get("/api/v1/leads", query)

    assert ids(response) == [lead_of(leads[name]).pk for name in expected]


def test_min_score_keeps_the_leads_at_or_above_it(sales: APIClient, leads: dict[str, User]) -> None:
    scores = {row["id"]: row["total_score"] for row in sales.get("/api/v1/leads").json()["results"]}
    warm = scores[lead_of(leads["warm"]).pk]

    assert ids(sales.get("/api/v1/leads", {"min_score": warm})) == [lead_of(leads[n]).pk for n in ("hot", "warm")]
    assert ids(sales.get("/api/v1/leads", {"min_score": warm + 1})) == [lead_of(leads["hot"]).pk]
    assert len(ids(sales.get("/api/v1/leads", {"min_score": -50}))) == 3


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"stage": "hot"}, "stage", '"hot" is not one of: lead, mql, sql, opportunity, recycled, disqualified.'),
        ({"product": "kettle"}, "product", "is not one of: thermalcommand, boileroptimizer"),
        ({"industry": "textiles"}, "industry", "is not one of: cement, chemicals"),
        ({"min_score": "high"}, "min_score", "A valid integer is required."),
        ({"min_score": "10001"}, "min_score", "less than or equal to 10000"),
        ({"min_score": "1.5"}, "min_score", "A valid integer is required."),
        ({"account_domain": "x" * 254}, "account_domain", "no more than 253 characters"),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"email": "a\x00b@x.example"}, "email", "Null characters are not allowed."),
        ({"page_size": "0"}, "page_size", "greater than or equal to 1"),
        ({"page_size": "201"}, "page_size", "less than or equal to 200"),
        ({"page_size": "many"}, "page_size", "A valid integer is required."),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(
    sales: APIClient, leads: dict[str, User], query: dict[str, str], field: str, message: str
) -> None:
    response = sales.get("/api/v1/leads", query)

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Some fields are not valid."
    assert list(body["errors"]) == [field]
    assert message in body["errors"][field][0]


def test_every_bad_filter_is_named_at_once(sales: APIClient) -> None:
    query = {"stage": "x", "product": "x", "industry": "x", "min_score": "x", "email": "x", "page_size": "x"}

    response = sales.get("/api/v1/leads", query)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == set(query)


def test_the_list_comes_in_pages(sales: APIClient, leads: dict[str, User]) -> None:
    order = ids(sales.get("/api/v1/leads"))

    first = sales.get("/api/v1/leads", {"page_size": "2", "stage": "lead"}).json()
    page = sales.get("/api/v1/leads", {"page_size": "2"}).json()
    second = sales.get(page["next"]).json()

    assert (first["count"], first["next"]) == (2, None)
    assert (page["count"], page["previous"]) == (3, None)
    assert [row["id"] for row in page["results"]] == order[:2]
    assert "page_size=2" in page["next"]
    assert [row["id"] for row in second["results"]] == order[2:]
    assert second["next"] is None
    past_the_end = sales.get("/api/v1/leads", {"page_size": 2, "page": 3})
    assert past_the_end.status_code == 404
    assert set(past_the_end.json()) == {"detail", "errors"}


def test_a_page_holds_50_leads_unless_asked(sales: APIClient) -> None:
    for n in range(51):
        did(prospect(f"p{n}@many.example"), "page_view")

    assert len(ids(sales.get("/api/v1/leads"))) == 50
    assert len(ids(sales.get("/api/v1/leads", {"page": 2}))) == 1
    assert len(ids(sales.get("/api/v1/leads", {"page_size": 200}))) == 51


# --- one lead --------------------------------------------------------------------------------------------


def test_a_leads_breakdown_names_each_rule_its_version_event_and_points(
    sales: APIClient, leads: dict[str, User]
) -> None:
    hot = leads["hot"]
    pricing = Event.objects.get(user=hot, name="pricing_requested")
    version = RuleSet.objects.get(status="active").version

    response = sales.get(f"/api/v1/leads/{lead_of(hot).pk}")

    assert response.status_code == 200
    body = response.json()
    lines = {line["rule"]: line for line in body["breakdown"]}
    assert lines["pricing_requested"] == {
        "rule": "pricing_requested",
        "rule_version": version,
        "kind": "engagement",
        "group": "intent",
        "points": 50,
        "decayed_points": 50.0,  # a moment old
        "event": pricing.pk,
        "product": "boileroptimizer",
        "at": lines["pricing_requested"]["at"],
        "explanation": "requested pricing for BoilerOptimizer",
    }
    assert datetime.fromisoformat(lines["pricing_requested"]["at"]) == pricing.occurred_at
    assert lines["demo_started"]["points"] == 5
    # Fit: who they are, with no event, never decayed.
    assert lines["role_executive"] | {"at": None} == {
        "rule": "role_executive",
        "rule_version": version,
        "kind": "fit",
        "group": "",
        "points": 30,
        "decayed_points": 30.0,
        "event": None,
        "product": "",
        "at": None,
        "explanation": "executive (role)",
    }
    assert {"business_email", "company_size_large", "industry_cement"} <= set(lines)
    fit = sum(line["points"] for line in body["breakdown"] if line["kind"] == "fit")
    assert body["fit_score"] == fit
    engagement = sum(line["decayed_points"] for line in body["breakdown"] if line["kind"] == "engagement")
    assert body["engagement_score"] == round(engagement)
    listed = next(row for row in sales.get("/api/v1/leads").json()["results"] if row["id"] == body["id"])
    assert listed == {key: value for key, value in body.items() if key != "breakdown"}  # the list: the same, less


def test_an_old_events_points_are_decayed_in_the_breakdown_and_the_score(sales: APIClient) -> None:
    user = prospect("slow@steady.example")
    sandbox = demo(user)
    did(user, "pricing_requested", sandbox, at=timezone.now() - timedelta(days=30))  # one half-life ago

    body = sales.get(f"/api/v1/leads/{lead_of(user).pk}").json()

    (line,) = [line for line in body["breakdown"] if line["rule"] == "pricing_requested"]
    assert line["points"] == 50
    assert line["decayed_points"] == pytest.approx(25.0, abs=0.1)
    assert line["decayed_points"] < line["points"]
    assert body["engagement_score"] == 25


def test_an_unknown_lead_is_a_404(sales: APIClient, leads: dict[str, User]) -> None:
    missing = max(lead_of(user).pk for user in leads.values()) + 1

    response = sales.get(f"/api/v1/leads/{missing}")

    assert response.status_code == 404
    assert response.json() == {"detail": "No lead with this id.", "errors": {}}
    assert sales.get("/api/v1/leads/99999999999999999999").status_code == 404  # beyond a bigint


def test_someone_who_did_not_agree_to_be_contacted_is_no_lead(sales: APIClient) -> None:
    user = User.objects.create_user(email="quiet@plant.example", role="engineer")  # no contact_consent_at
    did(user, "pricing_requested", demo(user))

    assert ids(sales.get("/api/v1/leads", {"email": "quiet@plant.example"})) == []


# --- accounts --------------------------------------------------------------------------------------------


def test_two_people_of_one_business_domain_roll_up_and_free_mail_does_not(
    sales: APIClient, leads: dict[str, User]
) -> None:
    response = sales.get("/api/v1/accounts")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (acme,) = body["results"]
    hot, warm = (sales.get(f"/api/v1/leads/{lead_of(leads[n]).pk}").json() for n in ("hot", "warm"))
    assert acme == {
        "account_domain": "acme.example",
        "people": 2,
        "roles_covered": ["executive", "engineer"],
        "roles_missing": ["operator", "consultant"],
        "engagement": hot["engagement_score"] + warm["engagement_score"],
        "stage": "mql",  # its most advanced person's
        "last_activity_at": acme["last_activity_at"],
    }
    latest = max(Event.objects.filter(user__in=[leads["hot"], leads["warm"]]).values_list("occurred_at", flat=True))
    assert datetime.fromisoformat(acme["last_activity_at"]) == latest


def test_one_account_lists_its_people_by_score(sales: APIClient, leads: dict[str, User]) -> None:
    response = sales.get("/api/v1/accounts/Acme.Example")

    assert response.status_code == 200
    body = response.json()
    assert (body["account_domain"], body["people"], body["stage"]) == ("acme.example", 2, "mql")
    assert [(p["email"], p["role"], p["stage"]) for p in body["leads"]] == [
        ("Exec@acme.example", "executive", "mql"),
        ("eng@acme.example", "engineer", "lead"),
    ]
    assert body["leads"][0]["id"] == lead_of(leads["hot"]).pk
    assert body["leads"][0]["total_score"] > body["leads"][1]["total_score"]


@pytest.mark.parametrize("domain", ["gmail.com", "nowhere.example", "acme", "a%00b"])
def test_an_unknown_or_free_mail_domain_is_no_account(sales: APIClient, leads: dict[str, User], domain: str) -> None:
    response = sales.get(f"/api/v1/accounts/{domain}")

    assert response.status_code == 404
    assert response.json() == {"detail": "No account with this domain.", "errors": {}}


def test_accounts_are_ordered_by_engagement_and_filtered_by_people(sales: APIClient, leads: dict[str, User]) -> None:
    solo = prospect("boss@solo.example", role="executive")
    did(solo, "demo_started", demo(solo))  # 5 points: less than acme's people

    everyone = sales.get("/api/v1/accounts").json()["results"]
    committees = sales.get("/api/v1/accounts", {"min_people": 2}).json()["results"]

    assert [row["account_domain"] for row in everyone] == ["acme.example", "solo.example"]
    assert everyone[1]["roles_covered"] == ["executive"]
    assert [row["account_domain"] for row in committees] == ["acme.example"]
    assert sales.get("/api/v1/accounts", {"min_people": 3}).json()["results"] == []
    assert sales.get("/api/v1/accounts", {"page_size": 1}).json()["next"] is not None


@pytest.mark.parametrize(
    ("query", "field"),
    [({"min_people": "0"}, "min_people"), ({"min_people": "two"}, "min_people"), ({"page_size": "500"}, "page_size")],
)
def test_a_bad_account_filter_is_a_400_naming_the_field(sales: APIClient, query: dict[str, str], field: str) -> None:
    response = sales.get("/api/v1/accounts", query)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


# --- documented --------------------------------------------------------------------------------------------


def test_the_served_schema_documents_the_filters_pages_and_errors() -> None:
    schema = Client().get("/api/schema/", {"format": "json"}, HTTP_HOST=PORTAL).json()

    operation = schema["paths"]["/api/v1/leads"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert {"stage", "product", "industry", "min_score", "account_domain", "email", "page", "page_size"} <= set(
        parameters
    )
    assert "boileroptimizer" in parameters["product"]["enum"]
    assert "cement" in parameters["industry"]["enum"]
    assert (parameters["page_size"]["minimum"], parameters["page_size"]["maximum"]) == (1, 200)
    assert {"200", "400", "401", "403", "404"} <= set(operation["responses"])
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"count", "next", "previous", "results"} <= set(schema["components"]["schemas"][page]["properties"])
    detail = schema["paths"]["/api/v1/leads/{lead_id}"]["get"]["responses"]
    assert "breakdown" in schema["components"]["schemas"]["LeadDetailOutput"]["properties"]
    assert {"200", "401", "403", "404"} <= set(detail)
    assert "min_people" in {p["name"] for p in schema["paths"]["/api/v1/accounts"]["get"]["parameters"]}
    assert "/api/v1/accounts/{account_domain}" in schema["paths"]
