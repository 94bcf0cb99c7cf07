"""Leads scored from real events (analytics/services/leads.py): the ledger, idempotency, concurrency, the
stages, and what sales are told."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from analytics.models import Event, Lead, LeadStageChange, ScoreEntry
from analytics.selectors.leads import breakdown_lines, engagement_now, leads_scored
from analytics.services.events import event_record
from analytics.services.leads import QUALIFIED_EXTENSION_REASON, lead_refresh, lead_sales_notify, lead_stage_set
from crm.services import pricing_request_create
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_provision

pytestmark = pytest.mark.django_db


def prospect(email: str = "ada@northwind-steel.example", **fields: Any) -> User:
    defaults = {"role": "engineer", "company": "Northwind Steel", "country": "US", "contact_consent_at": timezone.now()}
    return User.objects.create_user(email=email, password="pw", **{**defaults, **fields})


@pytest.fixture
def demo() -> tuple[User, Sandbox]:
    user = prospect()
    sandbox = sandbox_provision(email=user.email, product="boileroptimizer", industry="steel").sandbox
    return user, sandbox


def signals(user: User) -> list[tuple[str, int]]:
    return sorted(ScoreEntry.objects.filter(lead__user=user).values_list("signal", "points"))


def test_starting_a_demo_makes_a_lead_with_fit_and_engagement_apart(demo: tuple[User, Sandbox]) -> None:
    user, _ = demo
    lead = Lead.objects.get(user=user)

    assert signals(user) == [
        ("business_email", 20),
        ("country_sales_region", 10),
        ("demo_started", 5),
        ("industry_steel", 15),
        ("role_engineer", 25),
    ]
    assert (lead.fit_score, lead.fit_grade, lead.engagement_points) == (70, "A", 5)
    assert (lead.account_domain, lead.products, lead.industries) == (
        "northwind-steel.example",
        ["boileroptimizer"],
        ["steel"],
    )
    assert lead.stage == Lead.Stage.LEAD
    scored: Any = leads_scored().get(pk=lead.pk)  # with its annotations
    assert (scored.engagement_score, scored.total_score) == (5, 75)


def test_a_pricing_request_is_plus_50_explained_and_makes_an_mql_at_once(
    demo: tuple[User, Sandbox], django_capture_on_commit_callbacks: Any
) -> None:
    user, sandbox = demo
    with django_capture_on_commit_callbacks() as callbacks:
        pricing_request_create(user=user, sandbox=sandbox, company_size="1000-4999", sites=3, timeframe="0-3m")

    lead = Lead.objects.get(user=user)
    [line] = [line for line in breakdown_lines(lead) if line.entry.signal == "pricing_requested"]
    assert line.text.startswith("+50 requested pricing for BoilerOptimizer on ")
    assert line.text.endswith("(rule v1)")
    assert line.entry.event == Event.objects.get(name="pricing_requested")
    assert lead.stage == Lead.Stage.MQL
    assert lead.stage_reason == "Hand-raise: requested pricing for BoilerOptimizer"
    assert lead.recommended_action.startswith("Call today — requested pricing for BoilerOptimizer")
    assert ("company_size_large", 25) in signals(user)  # what the request said about the company counts for fit
    [change] = LeadStageChange.objects.filter(lead=lead)
    assert (change.before, change.after, change.actor) == ("lead", "mql", None)
    assert len(callbacks) >= 1  # sales are told once committed


def test_engagement_reaching_60_with_fit_a_to_c_makes_an_mql(demo: tuple[User, Sandbox]) -> None:
    user, sandbox = demo
    for name in ("demo_completed", "report_generated", "savings_calculated"):
        event_record(name=name, user=user, sandbox=sandbox)
    assert Lead.objects.get(user=user).stage == Lead.Stage.LEAD  # 5 + 20 + 15 + 10 = 50
    event_record(name="optimization_applied", user=user, sandbox=sandbox)
    lead = Lead.objects.get(user=user)
    assert lead.stage == Lead.Stage.MQL
    assert lead.stage_reason == "Engagement 60 (at least 60) with fit A"
    assert lead.recommended_action.startswith("Call this week — completed the BoilerOptimizer tour")


def test_fit_d_does_not_qualify_by_engagement_alone(django_capture_on_commit_callbacks: Any) -> None:
    user = prospect("kim@gmail.com", role="operator", personal_email=True, country="")
    sandbox = sandbox_provision(email=user.email, product="thermalcommand", industry="cement").sandbox
    for name in ("demo_completed", "report_generated", "savings_calculated", "optimization_applied", "demo_extended"):
        event_record(name=name, user=user, sandbox=sandbox)
    lead = Lead.objects.get(user=user)
    assert lead.fit_grade == "D"
    assert lead.account_domain == ""  # free-mail rolls up to no account
    assert engagement_now(lead) >= 60
    assert lead.stage == Lead.Stage.LEAD


def test_a_repeated_click_and_a_repeated_idempotency_key_count_once(demo: tuple[User, Sandbox]) -> None:
    user, sandbox = demo
    for _ in range(3):
        event_record(name="report_generated", user=user, sandbox=sandbox)
    event_record(name="demo_completed", user=user, sandbox=sandbox, idempotency_key="k1", source="client")
    event_record(name="demo_completed", user=user, sandbox=sandbox, idempotency_key="k1", source="client")

    assert [s for s in signals(user) if s[0] in ("report_generated", "demo_completed")] == [
        ("demo_completed", 20),
        ("report_generated", 15),
    ]
    assert Event.objects.filter(user=user, name="demo_completed").count() == 1


def test_old_points_are_worth_less_when_read(demo: tuple[User, Sandbox]) -> None:
    user, sandbox = demo
    now = timezone.now()
    event_record(name="demo_completed", user=user, sandbox=sandbox, occurred_at=now - timedelta(days=1))
    lead = Lead.objects.get(user=user)
    month_later = now + timedelta(days=30)
    # the demo's start and the second visit it now makes (5 + 10) halve in a month; the tour done a day
    # earlier has halved a little more
    assert engagement_now(lead, month_later) == pytest.approx(15 / 2 + 20 * 0.5 ** (31 / 30), rel=0.001)
    shown: Any = leads_scored(month_later).get(pk=lead.pk)
    assert shown.engagement_score == round(engagement_now(lead, month_later))
    assert lead.fit_score == 70  # fit never decays


def test_nobody_is_scored_without_consent_nor_staff() -> None:
    api_made = User.objects.create_user(email="no-consent@plant.example", password="pw")
    staff = User.objects.create_user(
        email="s@vendor.example", password="pw", is_staff=True, contact_consent_at=timezone.now()
    )
    for user in (api_made, staff):
        event_record(name="pricing_requested", user=user)
        assert lead_refresh(user=user) is None
    assert not Lead.objects.exists()


def test_erasing_the_prospect_erases_the_lead_and_its_ledger(demo: tuple[User, Sandbox]) -> None:
    user, _ = demo
    lead_id = Lead.objects.get(user=user).pk
    user.delete()
    assert not Lead.objects.filter(pk=lead_id).exists()
    assert not ScoreEntry.objects.filter(lead_id=lead_id).exists()


def sales_user(email: str = "sales@vendor.example") -> User:
    user = User.objects.create_user(email=email, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Sales"))
    return user


def test_sales_get_an_email_with_the_breakdown_and_links_and_the_sandbox_gets_7_days(
    demo: tuple[User, Sandbox], settings: Any
) -> None:
    user, sandbox = demo
    User.objects.filter(pk=user.pk).update(first_name="Ada", last_name="Lovelace")
    sales_user()
    settings.PORTAL_URL = "https://demo.vendor.example"
    before = Sandbox.objects.get(pk=sandbox.pk).expires_at
    pricing_request_create(user=user, sandbox=sandbox, company_size="5000+", sites=2, timeframe="0-3m")
    lead = Lead.objects.get(user=user)

    assert lead_sales_notify(lead_id=lead.pk, reasons=[f"New MQL — {lead.stage_reason}"]) == 1

    [message] = mail.outbox
    assert message.to == ["sales@vendor.example"]
    assert message.subject == (
        "Process Heat · New MQL — Hand-raise: requested pricing for BoilerOptimizer — Ada Lovelace, Northwind Steel"
    )
    assert message.from_email == "Process Heat Demo Portal <demo@localhost>"
    assert message.body.startswith("Ada Lovelace <ada@northwind-steel.example>, Process engineer at Northwind Steel\n")
    assert "demoed the Steel scenario" in message.body  # the industry by its name
    assert "boileroptimizer" not in message.body
    assert "+50 requested pricing for BoilerOptimizer" in message.body
    assert f"https://demo.vendor.example/admin/analytics/lead/{lead.pk}/change/" in message.body
    assert f"https://demo.vendor.example/admin/sandboxes/sandbox/{sandbox.pk}/watch/" in message.body
    sandbox.refresh_from_db()
    assert before is not None
    assert sandbox.expires_at == before + timedelta(days=7)
    assert sandbox.extension_notice == "Our sales team gave you 7 more days to evaluate."
    assert sandbox.audit_entries.get(action="extend").detail["reason"] == QUALIFIED_EXTENSION_REASON
    assert "demo_extended" not in dict(signals(user))  # sales' gift is not the prospect's engagement

    lead_sales_notify(lead_id=lead.pk, reasons=["New MQL — again"])  # a retried task
    sandbox.refresh_from_db()
    assert sandbox.expires_at == before + timedelta(days=7)  # extended once


def test_the_extension_stays_within_the_staff_cap(demo: tuple[User, Sandbox]) -> None:
    user, sandbox = demo
    Sandbox.objects.filter(pk=sandbox.pk).update(expires_at=sandbox.created_at + timedelta(days=28))
    lead = Lead.objects.get(user=user)
    lead_sales_notify(lead_id=lead.pk, reasons=["New MQL — test"])
    sandbox.refresh_from_db()
    assert sandbox.expires_at == sandbox.created_at + timedelta(days=30)


def test_a_hand_raise_of_an_mql_tells_sales_again_without_a_new_stage(
    demo: tuple[User, Sandbox], django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[list[str]] = []
    monkeypatch.setattr("analytics.services.leads.sales_tell_later", lambda *, lead_id, reasons: told.append(reasons))
    user, sandbox = demo
    with django_capture_on_commit_callbacks(execute=True):
        pricing_request_create(user=user, sandbox=sandbox, company_size="5000+", sites=2, timeframe="0-3m")
    with django_capture_on_commit_callbacks(execute=True):
        event_record(name="poc_started", user=user, sandbox=sandbox)
    with django_capture_on_commit_callbacks(execute=True):
        event_record(name="report_generated", user=user, sandbox=sandbox)

    assert told == [
        ["New MQL — Hand-raise: requested pricing for BoilerOptimizer"],
        ["Hand-raise: asked for a proof of concept of BoilerOptimizer"],
    ]
    assert LeadStageChange.objects.filter(lead__user=user).count() == 1


def test_no_sales_group_member_means_no_email(demo: tuple[User, Sandbox]) -> None:
    user, _ = demo
    assert lead_sales_notify(lead_id=Lead.objects.get(user=user).pk, reasons=["New MQL — x"]) == 0
    assert mail.outbox == []


def test_sales_accept_record_an_opportunity_and_every_change_is_audited(demo: tuple[User, Sandbox]) -> None:
    user, _ = demo
    seller = sales_user()
    lead = Lead.objects.get(user=user)

    lead = lead_stage_set(lead=lead, action="accept", actor=seller)
    lead = lead_stage_set(lead=lead, action="opportunity", actor=seller, opportunity_value=Decimal("250000"))

    assert (lead.stage, lead.opportunity_value, lead.opportunity_currency) == ("opportunity", Decimal("250000"), "USD")
    history = list(LeadStageChange.objects.filter(lead=lead).order_by("pk").values_list("before", "after", "actor"))
    assert history == [("lead", "sql", seller.pk), ("sql", "opportunity", seller.pk)]


@pytest.mark.parametrize(
    ("action", "fields", "errors"),
    [
        ("recycle", {}, {"reason"}),
        ("disqualify", {"reason": "  "}, {"reason"}),
        ("opportunity", {}, {"opportunity_value"}),
        ("opportunity", {"opportunity_value": Decimal("-1"), "currency": "dollars"}, {"opportunity_value", "currency"}),
        ("promote", {}, {"action"}),
    ],
)
def test_a_stage_change_with_bad_input_names_the_field_and_changes_nothing(
    demo: tuple[User, Sandbox], action: str, fields: dict[str, Any], errors: set[str]
) -> None:
    user, _ = demo
    lead = Lead.objects.get(user=user)
    with pytest.raises(DomainError) as raised:
        lead_stage_set(lead=lead, action=action, actor=sales_user(), **fields)
    assert set(raised.value.errors) == errors
    assert Lead.objects.get(pk=lead.pk).stage == Lead.Stage.LEAD
    assert not LeadStageChange.objects.filter(lead=lead).exists()


def test_a_stage_change_from_the_wrong_stage_is_a_conflict(demo: tuple[User, Sandbox]) -> None:
    user, _ = demo
    lead = Lead.objects.get(user=user)
    with pytest.raises(DomainError) as raised:
        lead_stage_set(lead=lead, action="opportunity", actor=sales_user(), opportunity_value=Decimal(1))
    assert raised.value.status_code == 409


def test_a_recycled_lead_comes_back_only_on_a_new_hand_raise(demo: tuple[User, Sandbox]) -> None:
    user, sandbox = demo
    event_record(name="sales_contact_requested", user=user, sandbox=sandbox)
    lead = lead_stage_set(lead=Lead.objects.get(user=user), action="recycle", actor=sales_user(), reason="No budget")
    event_record(name="report_generated", user=user, sandbox=sandbox)
    assert Lead.objects.get(pk=lead.pk).stage == Lead.Stage.RECYCLED
    event_record(name="pricing_requested", user=user, sandbox=sandbox)
    assert Lead.objects.get(pk=lead.pk).stage == Lead.Stage.MQL
