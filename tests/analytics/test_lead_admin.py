"""Leads in the admin: the list by score, the lead page, sales' stage actions, "Rescore now" and the accounts.

Sales (change permission on leads) move stages; Marketing (view permission) read. The data is made as
the portal makes it: prospects who consented, whose events are recorded by ``event_record`` (which scores
the lead in the same call).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from analytics.models import Event, Lead, LeadStageChange
from analytics.selectors.leads import engagement_now
from analytics.services.events import event_record
from analytics.services.leads import lead_stage_set
from demoportal.core.models import User
from sandboxes.models import Sandbox

pytestmark = pytest.mark.django_db
HOST: dict[str, Any] = {"HTTP_HOST": "localhost"}
LIST = "/admin/analytics/lead/"


def staff(group: str) -> User:
    user = User.objects.create_user(email=f"{group.lower()}@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def signed_in(client: Client, group: str) -> Client:
    client.force_login(staff(group))
    return client


def prospect(email: str, *, role: str = "engineer", company: str = "", **fields: Any) -> User:
    return User.objects.create_user(
        email=email,
        password="pw",
        role=role,
        company=company,
        first_name=fields.pop("first_name", ""),
        contact_consent_at=timezone.now(),
        **fields,
    )


SANDBOX_NUMBER = iter(range(1000))


def demo_sandbox(owner: User, *, product: str = "thermalcommand", industry: str = "oil_gas") -> Sandbox:
    """A ready demo sandbox row owned by ``owner`` (no schema: the lead admin reads the row only)."""
    n = next(SANDBOX_NUMBER)
    sandbox: Sandbox
    (sandbox,) = Sandbox.objects.bulk_create(
        [
            Sandbox(
                schema_name=f"leadadmin_{n}",
                slug=f"leadadmin-{n}",
                name=f"{owner.email}'s plant",
                industry=industry,
                product=product,
                role=owner.role,
                owner=owner,
                expires_at=timezone.now() + timedelta(days=5),
            )
        ]
    )
    return sandbox


def record(name: str, user: User, sandbox: Sandbox | None = None, minutes_ago: float = 0, **properties: Any) -> Event:
    event, _ = event_record(
        name=name,
        user=user,
        sandbox=sandbox,
        properties=properties,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    return event


def lead_of(user: User) -> Lead:
    return Lead.objects.get(user=user)


@pytest.fixture
def dana() -> User:
    """A rich lead: an engineer at Northwind who toured ThermalCommand, found value and asked for pricing."""
    user = prospect("dana@northwind.example", company="Northwind Refining", first_name="Dana", job_title="Engineer")
    sandbox = demo_sandbox(user)
    record("demo_started", user, sandbox, minutes_ago=600)
    for n, step in enumerate(["overview", "heaters", "o2"]):
        record("feature_viewed", user, sandbox, 590 - n, feature=f"tour.{step}", tour="tc-engineer", step=step)
    record("feature_viewed", user, sandbox, 585, feature="tour.o2", tour="tc-engineer", step="o2")  # seen again
    record("demo_completed", user, sandbox, 580, tour="tc-engineer", steps_done=3)
    record("report_generated", user, sandbox, 300)
    record("pricing_requested", user, sandbox, 60, product="thermalcommand", sites=3, timeframe="this quarter")
    return user


@pytest.fixture
def colleague(dana: User) -> User:
    user = prospect("lee@northwind.example", role="executive", company="Northwind Refining")
    record("demo_started", user, demo_sandbox(user, product="boileroptimizer"), minutes_ago=30)
    return user


@pytest.fixture
def freemail() -> User:
    user = prospect("sam@gmail.com", role="operator")
    sandbox = demo_sandbox(user, product="boileroptimizer", industry="cement")
    record("demo_started", user, sandbox, minutes_ago=10)
    record("report_generated", user, sandbox, minutes_ago=9)
    return user


def listed(page: Any) -> list[str]:
    return [lead.user.email for lead in page.context["cl"].result_list]


# --- the list ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["Sales", "Marketing"])
def test_staff_see_the_leads_best_total_first_with_grade_stage_and_products(
    client: Client, dana: User, colleague: User, freemail: User, group: str
) -> None:
    page = signed_in(client, group).get(LIST, **HOST)

    assert page.status_code == 200
    assert listed(page) == ["dana@northwind.example", "lee@northwind.example", "sam@gmail.com"]
    scores = [(lead.total_score, lead.fit_score + lead.engagement_score) for lead in page.context["cl"].result_list]
    assert all(total == parts for total, parts in scores)
    content = page.content.decode()
    dana_lead = lead_of(dana)
    assert f'lead-grade-{dana_lead.fit_grade.lower()}" title="Fit grade {dana_lead.fit_grade}"' in content
    assert '<span class="lead-stage lead-stage-mql">MQL</span>' in content  # pricing: a hand-raise
    assert "Thermal<wbr>Command" in content
    assert "Boiler<wbr>Optimizer" in content
    assert "Call today" in content  # the recommended action
    assert "Accounts (buying committees)" in content
    # Listed by name with the address beneath; one without a name, by address alone.
    assert '<strong>Dana</strong><span class="lead-sub"><span class="lead-nowrap">dana@</span>' in content
    assert 'change/"><span class="lead-nowrap">lee@</span>' in content
    # The default order is shown on its column, as if "total" had been clicked.
    assert page.context["cl"].get_ordering_field_columns() == {4 if group == "Sales" else 3: "desc"}


def test_sales_may_rescore_from_the_list_marketing_has_no_actions(client: Client, dana: User) -> None:
    assert "rescore" in signed_in(client, "Sales").get(LIST, **HOST).context["action_form"].fields["action"].choices[1]
    client.logout()
    assert signed_in(Client(), "Marketing").get(LIST, **HOST).context["action_form"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Marketing's list has no action checkbox: engagement is column 2, total column 3.
        ("?o=2", ["lee@northwind.example", "sam@gmail.com", "dana@northwind.example"]),
        ("?o=-3", ["dana@northwind.example", "lee@northwind.example", "sam@gmail.com"]),
        ("?o=3", ["sam@gmail.com", "lee@northwind.example", "dana@northwind.example"]),
        ("?stage__exact=mql", ["dana@northwind.example"]),
        ("?stage__exact=lead", ["lee@northwind.example", "sam@gmail.com"]),
        ("?fit_grade=D", ["sam@gmail.com"]),
        ("?product=boileroptimizer", ["lee@northwind.example", "sam@gmail.com"]),
        ("?industry=cement", ["sam@gmail.com"]),
        ("?account=business", ["dana@northwind.example", "lee@northwind.example"]),
        ("?account=free-mail", ["sam@gmail.com"]),
        ("?account_domain=northwind.example", ["dana@northwind.example", "lee@northwind.example"]),
        ("?q=northwind+refining", ["dana@northwind.example", "lee@northwind.example"]),
        ("?q=gmail.com", ["sam@gmail.com"]),
    ],
)
def test_the_list_sorts_filters_and_searches(
    client: Client, dana: User, colleague: User, freemail: User, query: str, expected: list[str]
) -> None:
    page = signed_in(client, "Marketing").get(LIST + query, **HOST)

    assert page.status_code == 200
    assert listed(page) == expected


def test_an_account_domain_in_the_address_says_so_above_the_list(client: Client, dana: User, colleague: User) -> None:
    page = signed_in(client, "Sales").get(LIST + "?account_domain=northwind.example", **HOST)

    assert "The buying committee of <strong>northwind.example</strong>" in page.content.decode()


def test_nobody_adds_or_deletes_leads(client: Client, dana: User) -> None:
    client.force_login(User.objects.create_superuser(email="root@vendor.example", password="pw"))

    assert client.get(LIST + "add/", **HOST).status_code == 403
    assert client.post(f"{LIST}{lead_of(dana).pk}/delete/", {"post": "yes"}, **HOST).status_code == 403
    assert Lead.objects.filter(user=dana).exists()


# --- the lead page ----------------------------------------------------------------------------------


def page_of(client: Client, user: User) -> Any:
    response = client.get(f"{LIST}{lead_of(user).pk}/change/", **HOST)
    assert response.status_code == 200, response.content[:300]
    return response


def test_the_lead_page_explains_the_score_fit_first_then_engagement_newest_first(
    client: Client, dana: User, colleague: User
) -> None:
    response = page_of(signed_in(client, "Sales"), dana)

    page = response.context["page"]
    assert [line.entry.kind for line in page.fit_lines] == ["fit"] * len(page.fit_lines)
    engagement = [line.entry.signal for line in page.engagement_lines]
    assert engagement[0] == "pricing_requested"  # newest first
    assert engagement[-1] == "demo_started"
    assert [line.entry.occurred_at for line in page.engagement_lines] == sorted(
        (line.entry.occurred_at for line in page.engagement_lines), reverse=True
    )
    content = response.content.decode()
    breakdown = content[content.index('id="breakdown"') : content.index('id="calls-to-action"')]
    first_fit = breakdown.index("a business e-mail at northwind.example")
    assert (
        first_fit
        < breakdown.index("requested pricing for ThermalCommand")
        < breakdown.index("started a ThermalCommand")
    )
    pricing = page.engagement_lines[0]
    assert pricing.decayed_points < 50  # an hour old: a little less than the 50 it earned
    assert f"now <strong>{pricing.decayed_points:.1f}</strong>" in content
    lead = response.context["original"]
    assert f'<span class="value">{lead.total_score:.0f}</span>' in content
    assert "Call today — requested pricing for ThermalCommand" in content


def test_the_lead_page_shows_sandboxes_tour_progress_and_calls_to_action(
    client: Client, dana: User, colleague: User
) -> None:
    response = page_of(signed_in(client, "Sales"), dana)

    (row,) = response.context["page"].sandboxes
    assert (row.steps_seen, row.finished, row.product) == (3, True, "ThermalCommand")
    content = response.content.decode()
    assert f'href="/admin/sandboxes/sandbox/{row.sandbox.pk}/change/"' in content
    assert "steps seen: 3" in content
    assert "finished: yes" in content
    (cta,) = response.context["page"].calls_to_action
    assert (cta.label, cta.product) == ("Requested pricing", "ThermalCommand")
    assert ("sites", "3") in cta.properties
    assert "timeframe: this quarter" in content


def test_an_unfinished_tour_and_no_hand_raise(client: Client, colleague: User) -> None:
    sandbox = Sandbox.objects.get(owner=colleague)
    record("feature_viewed", colleague, sandbox, 5, feature="tour.a", tour="bo-executive", step="a")
    record("feature_viewed", colleague, sandbox, 4, feature="kpis")  # outside the tour: not a step

    response = page_of(signed_in(client, "Sales"), colleague)

    (row,) = response.context["page"].sandboxes
    assert (row.steps_seen, row.finished) == (1, False)
    assert "No hand-raise yet" in response.content.decode()


def test_the_buying_committee_lists_the_colleagues_of_the_domain(client: Client, dana: User, colleague: User) -> None:
    response = page_of(signed_in(client, "Sales"), dana)

    assert [other.user.email for other in response.context["page"].committee] == ["lee@northwind.example"]
    content = response.content.decode()
    assert f'href="{LIST}{lead_of(colleague).pk}/change/">lee@northwind.example</a>' in content  # no name given
    assert "<title>Dana | Lead |" in content  # the lead by name
    assert "executive" in content


def test_a_free_mail_lead_has_no_buying_committee(client: Client, freemail: User) -> None:
    prospect("kim@gmail.com")  # another free-mail user is no colleague

    response = page_of(signed_in(client, "Sales"), freemail)

    assert response.context["page"].committee == []
    assert "A free-mail address: no account to roll up to." in response.content.decode()


def test_the_stage_history_says_who_moved_it_when_and_why(client: Client, dana: User) -> None:
    sales = User.objects.create_user(email="ann@vendor.example", password="pw", is_staff=True)
    lead_stage_set(lead=lead_of(dana), action="accept", actor=sales, reason="Call booked for Thursday")

    response = page_of(signed_in(client, "Marketing"), dana)

    changes = [(c.before, c.after, c.actor) for c in response.context["page"].stage_changes]
    assert changes == [("mql", "sql", sales), ("lead", "mql", None)]
    content = response.content.decode()
    assert "Call booked for Thursday" in content
    assert "ann@vendor.example" in content
    assert "the scoring" in content


def test_the_lead_page_is_read_only_its_save_is_refused(client: Client, dana: User) -> None:
    signed_in(client, "Sales")
    lead = lead_of(dana)

    response = client.post(f"{LIST}{lead.pk}/change/", {"stage": "opportunity"}, **HOST)

    assert response.status_code == 405
    lead.refresh_from_db()
    assert lead.stage == "mql"


def test_an_unknown_lead_is_404(client: Client) -> None:
    signed_in(client, "Sales")

    assert client.get(f"{LIST}999999/change/", **HOST).status_code in (302, 404)
    assert client.post(f"{LIST}999999/stage/accept/", {}, **HOST).status_code == 404


# --- stage actions ----------------------------------------------------------------------------------


def stage_post(client: Client, lead: Lead, action: str, data: dict[str, Any] | None = None) -> Any:
    fields = {f"{action}-{name}": value for name, value in (data or {}).items()}
    return client.post(f"{LIST}{lead.pk}/stage/{action}/", fields, **HOST)


def test_marketing_see_no_stage_actions_and_may_not_use_them(client: Client, dana: User) -> None:
    signed_in(client, "Marketing")
    lead = lead_of(dana)

    page = page_of(client, dana)

    assert page.context["stage_forms"] == []
    assert "Move this lead" not in page.content.decode()
    assert "Rescore now" not in page.content.decode()
    assert stage_post(client, lead, "accept").status_code == 403
    assert stage_post(client, lead, "disqualify", {"reason": "competitor"}).status_code == 403
    assert client.post(f"{LIST}{lead.pk}/rescore/", **HOST).status_code == 403
    lead.refresh_from_db()
    assert lead.stage == "mql"
    assert not LeadStageChange.objects.filter(lead=lead, actor__isnull=False).exists()


def test_sales_see_the_actions_allowed_from_the_stage(client: Client, dana: User) -> None:
    page = page_of(signed_in(client, "Sales"), dana)  # an MQL

    assert [form.action for form in page.context["stage_forms"]] == ["accept", "recycle", "disqualify"]
    assert 'id="stage-accept"' in page.content.decode()


@pytest.mark.parametrize(
    ("before", "action", "data", "after"),
    [
        ("mql", "accept", {"reason": "Strong fit"}, "sql"),
        ("lead", "accept", {}, "sql"),
        ("sql", "opportunity", {"value": "120000", "currency": "eur"}, "opportunity"),
        ("sql", "recycle", {"reason": "No budget until next year"}, "recycled"),
        ("mql", "disqualify", {"reason": "Competitor"}, "disqualified"),
        ("disqualified", "reopen", {}, "lead"),
    ],
)
def test_each_stage_action_moves_the_lead_and_is_audited(
    client: Client, dana: User, before: str, action: str, data: dict[str, str], after: str
) -> None:
    Lead.objects.filter(user=dana).update(stage=before)
    signed_in(client, "Sales")
    lead = lead_of(dana)

    response = stage_post(client, lead, action, data)

    assert response.status_code == 302
    assert response["Location"] == f"{LIST}{lead.pk}/change/"
    lead.refresh_from_db()
    assert lead.stage == after
    change = LeadStageChange.objects.filter(lead=lead).first()
    assert change is not None
    assert (change.before, change.after, change.actor.email if change.actor else None) == (
        before,
        after,
        "sales@vendor.example",
    )
    if action == "opportunity":
        assert (lead.opportunity_value, lead.opportunity_currency) == (Decimal("120000.00"), "EUR")
    if data.get("reason"):
        assert change.reason == data["reason"]
    followed = client.get(response["Location"], **HOST)
    assert f"is now {lead.get_stage_display()}" in followed.content.decode()


@pytest.mark.parametrize(
    ("before", "action", "data", "message"),
    [
        ("mql", "recycle", {}, "Say why, for the audit trail and for marketing."),
        ("mql", "disqualify", {"reason": "   "}, "Say why, for the audit trail and for marketing."),
        ("sql", "opportunity", {"currency": "USD"}, "Enter the opportunity&#x27;s value, more than 0."),
        ("sql", "opportunity", {"value": "-5", "currency": "USD"}, "Enter the opportunity&#x27;s value, more than 0."),
        ("sql", "opportunity", {"value": "0", "currency": "USD"}, "Enter the opportunity&#x27;s value, more than 0."),
        ("sql", "opportunity", {"value": "lots", "currency": "USD"}, "Enter a number."),
        ("sql", "opportunity", {"value": "NaN", "currency": "USD"}, "Enter a number."),
        ("sql", "opportunity", {"value": "1e400", "currency": "USD"}, "no more than 14 digits in total"),
        ("sql", "opportunity", {"value": "5000", "currency": "U$"}, "A three-letter currency code, e.g. USD."),
        ("sql", "opportunity", {"value": "5000", "currency": "DOLLARS"}, "A three-letter currency code, e.g. USD."),
        ("disqualified", "accept", {}, "A lead in stage Disqualified cannot be moved by &#x27;accept&#x27;."),
        ("mql", "opportunity", {"value": "5000", "currency": "USD"}, "A lead in stage MQL cannot be moved"),
        ("lead", "reopen", {}, "A lead in stage Lead cannot be moved by &#x27;reopen&#x27;."),
        ("mql", "recycle", {"reason": "x" * 301}, "Ensure this value has at most 300 characters"),
    ],
)
def test_a_refused_stage_action_shows_why_on_its_form_and_changes_nothing(
    client: Client, dana: User, before: str, action: str, data: dict[str, str], message: str
) -> None:
    Lead.objects.filter(user=dana).update(stage=before)
    signed_in(client, "Sales")
    lead = lead_of(dana)
    changes = LeadStageChange.objects.count()

    response = stage_post(client, lead, action, data)

    assert response.status_code == 400
    content = response.content.decode()
    assert message in content
    assert "The lead was not changed" in content
    form = next(f for f in response.context["stage_forms"] if f.action == action)
    assert form.errors
    assert f'id="stage-{action}"' in content  # the refused form is shown, even when the stage does not offer it
    lead.refresh_from_db()
    assert lead.stage == before
    assert lead.opportunity_value is None
    assert LeadStageChange.objects.count() == changes


def test_a_field_sent_twice_is_refused(client: Client, dana: User) -> None:
    signed_in(client, "Sales")
    lead = lead_of(dana)

    response = client.post(
        f"{LIST}{lead.pk}/stage/disqualify/",
        "disqualify-reason=a&disqualify-reason=b",
        "application/x-www-form-urlencoded",
        **HOST,
    )

    assert response.status_code == 400
    assert "was sent more than once" in response.content.decode()
    lead.refresh_from_db()
    assert lead.stage == "mql"


def test_an_unknown_stage_action_is_404_and_a_get_goes_back_to_the_lead(client: Client, dana: User) -> None:
    signed_in(client, "Sales")
    lead = lead_of(dana)

    assert stage_post(client, lead, "promote").status_code == 404
    response = client.get(f"{LIST}{lead.pk}/stage/accept/", **HOST)
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.stage == "mql"


# --- rescore ----------------------------------------------------------------------------------------


def event_unscored(user: User, name: str) -> None:
    """An event stored without scoring its lead (as a rule change or a lost update would leave it)."""
    Event.objects.create(name=name, user=user, occurred_at=timezone.now(), source=Event.Source.SERVER)


def test_rescore_now_scores_the_lead_from_all_its_events(client: Client, colleague: User) -> None:
    signed_in(client, "Sales")
    lead = lead_of(colleague)
    before = lead.engagement_points
    event_unscored(colleague, "report_generated")

    response = client.post(f"{LIST}{lead.pk}/rescore/", **HOST)

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.engagement_points == before + 15
    assert "Rescored from all their events" in client.get(response["Location"], **HOST).content.decode()


def test_rescore_of_someone_no_longer_a_lead_says_so(client: Client, colleague: User) -> None:
    signed_in(client, "Sales")
    lead = lead_of(colleague)
    User.objects.filter(pk=colleague.pk).update(contact_consent_at=None)
    event_unscored(colleague, "report_generated")

    response = client.post(f"{LIST}{lead.pk}/rescore/", follow=True, **HOST)

    assert "Not rescored: no longer a lead" in response.content.decode()
    lead.refresh_from_db()
    assert lead.engagement_points == 5


def test_the_rescore_action_of_the_list(client: Client, dana: User, colleague: User, freemail: User) -> None:
    signed_in(client, "Sales")
    event_unscored(colleague, "report_generated")
    event_unscored(freemail, "report_generated")
    User.objects.filter(pk=freemail.pk).update(contact_consent_at=None)
    chosen = [lead_of(colleague).pk, lead_of(freemail).pk]

    response = client.post(LIST, {"action": "rescore", "_selected_action": chosen}, follow=True, **HOST)

    content = response.content.decode()
    assert "Rescored 1 lead." in content
    assert "1 not rescored: no longer leads" in content
    assert lead_of(colleague).engagement_points == 20
    assert lead_of(freemail).engagement_points == 20  # not rescored: its new report not counted


# --- accounts ---------------------------------------------------------------------------------------


ACCOUNTS = "/admin/analytics/lead/accounts/"


@pytest.mark.parametrize("group", ["Sales", "Marketing"])
def test_the_accounts_list_buying_committees(
    client: Client, dana: User, colleague: User, freemail: User, group: str
) -> None:
    other = prospect("pat@baltic.example", role="consultant", company="Baltic Cement")
    record("demo_started", other, demo_sandbox(other, industry="cement"), minutes_ago=5)

    page = signed_in(client, group).get(ACCOUNTS, **HOST)

    assert page.status_code == 200
    rows = page.context["rows"]
    assert [row["account_domain"] for row in rows] == ["northwind.example", "baltic.example"]  # most engaged first
    northwind = rows[0]
    assert northwind["people"] == 2
    assert northwind["roles"] == "executive, engineer — 2 of 4"
    assert northwind["stage"] == "mql"
    combined = engagement_now(lead_of(dana)) + engagement_now(lead_of(colleague))
    assert abs(northwind["engagement"] - combined) <= 0.5
    content = page.content.decode()
    assert f'href="{LIST}?account_domain=northwind.example"' in content
    assert "consultant — 1 of 4" in content
    assert "gmail.com" not in content  # free-mail is no account
    assert f'href="{ACCOUNTS}"' in client.get(LIST, **HOST).content.decode()  # linked from the leads list


def test_the_accounts_search_and_pages(client: Client, dana: User, colleague: User) -> None:
    signed_in(client, "Sales")

    found = client.get(ACCOUNTS + "?q=northwind", **HOST)
    missing = client.get(ACCOUNTS + "?q=nowhere", **HOST)
    beyond = client.get(ACCOUNTS + "?p=99", **HOST)

    assert [row["account_domain"] for row in found.context["rows"]] == ["northwind.example"]
    assert missing.context["rows"] == []
    assert "No account matches “nowhere”." in missing.content.decode()
    assert beyond.status_code == 200  # past the end: the last page, not an error
    assert [row["account_domain"] for row in beyond.context["rows"]] == ["northwind.example"]


def test_a_prospect_is_not_let_into_the_lead_admin(client: Client, dana: User) -> None:
    client.force_login(dana)

    for path in (LIST, ACCOUNTS, f"{LIST}{lead_of(dana).pk}/change/"):
        response = client.get(path, **HOST)
        assert response.status_code == 302
        assert re.match(r"^/admin/login/", response["Location"])
