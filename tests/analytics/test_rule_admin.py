"""Scoring rule sets in the admin: Marketing edit a draft, make a new version, preview and apply it; an
applied version is read-only; Sales read everything and change nothing.

The worker's part (``analytics.tasks.rescore``) is run here by calling the service it calls,
``rescore_run``, on the job the page queued.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from analytics.models import Lead, RescoreJob, Rule, RuleSet
from analytics.services.events import event_record
from analytics.services.rules import rescore_run, rule_set_new_version
from demoportal.core.models import User
from sandboxes.models import Sandbox

pytestmark = pytest.mark.django_db
HOST: dict[str, Any] = {"HTTP_HOST": "localhost"}
RULES = "/admin/analytics/ruleset/"
PARAMETERS = (
    "note",
    "mql_engagement",
    "mql_fit_grades",
    "intent_half_life_days",
    "activity_half_life_days",
    "feature_depth_min",
    "session_gap_minutes",
    "quick_abandonment_minutes",
)


def staff(group: str) -> User:
    user = User.objects.create_user(email=f"{group.lower()}@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def marketing(client: Client) -> Client:
    client.force_login(staff("Marketing"))
    return client


@pytest.fixture
def sales(client: Client) -> Client:
    client.force_login(staff("Sales"))
    return client


@pytest.fixture
def active() -> RuleSet:
    return RuleSet.objects.get(status=RuleSet.Status.ACTIVE)  # v1, made by analytics' migration 0005


@pytest.fixture
def draft(active: RuleSet) -> RuleSet:
    return rule_set_new_version(source=active, actor=None)


@pytest.fixture
def eve() -> User:
    """A lead 55 engagement points strong with fit B: below v1's MQL threshold of 60."""
    user = User.objects.create_user(
        email="eve@plant.example", password="pw", role="engineer", contact_consent_at=timezone.now()
    )
    (sandbox,) = Sandbox.objects.bulk_create(
        [Sandbox(schema_name="eve_plant", slug="eve-plant", name="Eve's plant", industry="oil_gas", owner=user)]
    )
    for name in ("demo_started", "demo_completed", "report_generated", "savings_calculated", "alert_acknowledged"):
        event_record(name=name, user=user, sandbox=sandbox)
    lead = Lead.objects.get(user=user)
    assert (lead.stage, lead.engagement_points, lead.fit_grade) == ("lead", 55, "B")
    return user


def form_data(rule_set: RuleSet, *, rules: list[dict[str, Any]] | None = None, **changes: Any) -> dict[str, Any]:
    """The change form of ``rule_set`` as the browser sends it, with ``changes`` to its parameters and
    ``rules`` appended as new rows of the inline."""
    data: dict[str, Any] = {name: getattr(rule_set, name) for name in PARAMETERS}
    data.update(changes)
    existing = list(rule_set.rules.all())
    for n, rule in enumerate(existing):
        row = {"id": rule.pk, "rule_set": rule_set.pk, "kind": rule.kind, "signal": rule.signal}
        row |= {"points": rule.points, "max_per_demo": rule.max_per_demo, "group": rule.group}
        if rule.hand_raise:
            row["hand_raise"] = "on"
        data.update({f"rules-{n}-{key}": value for key, value in row.items()})
    for n, row in enumerate(rules or [], start=len(existing)):
        data.update({f"rules-{n}-{key}": value for key, value in {"rule_set": rule_set.pk, **row}.items()})
    data.update(
        {
            "rules-TOTAL_FORMS": len(existing) + len(rules or []),
            "rules-INITIAL_FORMS": len(existing),
            "rules-MIN_NUM_FORMS": 0,
            "rules-MAX_NUM_FORMS": 1000,
        }
    )
    return data


def row_of(rule_set: RuleSet, signal: str) -> int:
    return [rule.signal for rule in rule_set.rules.all()].index(signal)


def rules_of(rule_set: RuleSet) -> list[tuple[str, str, int, int, str, bool]]:
    return list(rule_set.rules.values_list("kind", "signal", "points", "max_per_demo", "group", "hand_raise"))


# --- who sees what ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["sales", "marketing"])
def test_staff_read_the_rule_sets(request: Any, who: str, active: RuleSet, draft: RuleSet) -> None:
    client = request.getfixturevalue(who)

    listing = client.get(RULES, **HOST)

    assert listing.status_code == 200
    assert [rule_set.version for rule_set in listing.context["cl"].result_list] == [2, 1]
    content = listing.content.decode()
    assert '<span class="rule-status rule-status-active">In use</span>' in content
    assert '<span class="rule-status rule-status-draft">Draft</span>' in content
    assert client.get(f"{RULES}{active.pk}/change/", **HOST).status_code == 200
    assert client.get(f"{RULES}{draft.pk}/change/", **HOST).status_code == 200
    assert "Add scoring rule set" not in content  # versions start from another, never from nothing


def test_sales_see_rule_sets_without_buttons_and_may_change_nothing(
    sales: Client, active: RuleSet, draft: RuleSet
) -> None:
    before = rules_of(draft)

    for rule_set in (active, draft):
        page = sales.get(f"{RULES}{rule_set.pk}/change/", **HOST).content.decode()
        for button in ('id="preview"', 'id="apply"', 'id="new-version"', 'name="_save"', 'name="rules-0-points"'):
            assert button not in page

    changed = sales.post(f"{RULES}{draft.pk}/change/", form_data(draft, mql_engagement=10), **HOST)
    new_version = sales.post(f"{RULES}{active.pk}/new-version/", **HOST)
    preview = sales.post(f"{RULES}{draft.pk}/preview/", **HOST)
    apply_page = sales.get(f"{RULES}{draft.pk}/apply/", **HOST)
    applied = sales.post(f"{RULES}{draft.pk}/apply/", {"confirmed": "yes"}, **HOST)

    assert [r.status_code for r in (changed, new_version, preview, apply_page, applied)] == [403] * 5
    draft.refresh_from_db()
    assert (draft.status, draft.mql_engagement) == ("draft", 60)
    assert rules_of(draft) == before
    assert RuleSet.objects.count() == 2
    assert not RescoreJob.objects.exists()


def test_marketing_see_the_buttons_of_a_draft(marketing: Client, draft: RuleSet) -> None:
    page = marketing.get(f"{RULES}{draft.pk}/change/", **HOST).content.decode()

    for button in ('id="preview"', 'id="apply"', 'id="new-version"', 'name="_save"', 'name="rules-0-points"'):
        assert button in page
    assert "A draft: nothing is scored by it yet." in page
    assert "What this draft changes from v1" in page


def test_an_applied_version_is_read_only_even_for_marketing(marketing: Client, active: RuleSet) -> None:
    before = rules_of(active)

    page = marketing.get(f"{RULES}{active.pk}/change/", **HOST)
    changed = marketing.post(f"{RULES}{active.pk}/change/", form_data(active, mql_engagement=10), **HOST)

    content = page.content.decode()
    assert 'name="_save"' not in content
    assert 'name="rules-0-points"' not in content
    assert 'name="mql_engagement"' not in content
    assert "MQL at engagement" in content  # the labels of the draft form, on the read-only page too
    assert 'id="new-version"' in content
    assert 'id="preview"' not in content
    assert 'id="apply"' not in content
    assert changed.status_code == 403
    active.refresh_from_db()
    assert active.mql_engagement == 60
    assert rules_of(active) == before


# --- a new version, edited --------------------------------------------------------------------------


def test_new_version_from_an_applied_one_opens_its_draft(marketing: Client, active: RuleSet) -> None:
    response = marketing.post(f"{RULES}{active.pk}/new-version/", **HOST)

    draft = RuleSet.objects.get(version=2)
    assert response.status_code == 302
    assert response["Location"] == f"{RULES}{draft.pk}/change/"
    assert draft.status == "draft"
    assert draft.created_by is not None
    assert draft.created_by.email == "marketing@vendor.example"
    assert rules_of(draft) == rules_of(active)
    assert "Draft v2 made from v1" in marketing.get(response["Location"], **HOST).content.decode()


def test_marketing_edit_a_drafts_parameters_and_rules(marketing: Client, draft: RuleSet) -> None:
    data = form_data(
        draft,
        note="Value moments count more",
        mql_engagement=50,
        mql_fit_grades="ba",
        rules=[{"kind": "engagement", "signal": "page_view", "points": 1, "max_per_demo": 3, "group": "activity"}],
    )
    data[f"rules-{row_of(draft, 'savings_calculated')}-points"] = 20
    data[f"rules-{row_of(draft, 'free_mail')}-DELETE"] = "on"

    response = marketing.post(f"{RULES}{draft.pk}/change/", data, **HOST)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    draft.refresh_from_db()
    assert (draft.note, draft.mql_engagement, draft.mql_fit_grades) == ("Value moments count more", 50, "AB")
    rules = {rule.signal: rule for rule in draft.rules.all()}
    assert rules["savings_calculated"].points == 20
    assert (rules["page_view"].points, rules["page_view"].max_per_demo) == (1, 3)
    assert "free_mail" not in rules
    page = marketing.get(f"{RULES}{draft.pk}/change/", **HOST).content.decode()
    assert "engagement: savings_calculated" in page  # the changes from v1, listed
    assert "+20" in page


@pytest.mark.parametrize(
    ("changes", "rules", "message"),
    [
        ({"mql_fit_grades": "AX"}, [], "Fit grades are A, B, C and D; not X."),
        ({"intent_half_life_days": 0}, [], "Ensure this value is greater than or equal to 1."),
        ({"mql_engagement": -5}, [], "Ensure this value is greater than or equal to 0."),
        (
            {},
            [{"kind": "engagement", "signal": "page_view", "points": 150, "group": "activity"}],
            "less than or equal to 100",
        ),
        ({}, [{"kind": "fit", "signal": "page_view", "points": 5, "group": "activity"}], "is an engagement signal"),
        ({}, [{"kind": "engagement", "signal": "free_mail", "points": 5, "group": "activity"}], "is a fit attribute"),
        ({}, [{"kind": "engagement", "signal": "bogus", "points": 5, "group": "activity"}], "Select a valid choice."),
        (
            {},
            [{"kind": "fit", "signal": "role_consultant", "points": 5, "group": "activity", "hand_raise": "on"}],
            "Only an engagement signal can be a hand-raise.",
        ),
        (
            {},
            [{"kind": "engagement", "signal": "pricing_requested", "points": 5, "max_per_demo": 1, "group": "intent"}],
            "Please correct the duplicate data",
        ),
    ],
)
def test_a_bad_draft_edit_says_why_and_changes_nothing(
    marketing: Client, draft: RuleSet, changes: dict[str, Any], rules: list[dict[str, Any]], message: str
) -> None:
    before = rules_of(draft)
    rows = [{"max_per_demo": 1, **row} for row in rules]

    response = marketing.post(f"{RULES}{draft.pk}/change/", form_data(draft, rules=rows, **changes), **HOST)

    assert response.status_code == 200
    assert message in response.content.decode()
    draft.refresh_from_db()
    assert (draft.mql_fit_grades, draft.intent_half_life_days, draft.mql_engagement) == ("ABC", 30, 60)
    assert rules_of(draft) == before


# --- preview and apply ------------------------------------------------------------------------------


def job_page(client: Client, job: RescoreJob) -> str:
    response = client.get(f"{RULES}{job.rule_set_id}/jobs/{job.pk}/", **HOST)
    assert response.status_code == 200
    return str(response.content.decode())


def test_a_preview_shows_progress_then_what_would_change_without_changing_it(
    marketing: Client, draft: RuleSet, eve: User
) -> None:
    RuleSet.objects.filter(pk=draft.pk).update(mql_engagement=50)

    response = marketing.post(f"{RULES}{draft.pk}/preview/", **HOST)

    job = RescoreJob.objects.get(rule_set=draft)
    assert (job.mode, job.status) == ("preview", "queued")
    assert response["Location"] == f"{RULES}{draft.pk}/jobs/{job.pk}/"
    queued = job_page(marketing, job)
    assert '<meta http-equiv="refresh" content="2">' in queued  # follows the worker until it is done
    assert "<progress" in queued

    rescore_run(job=job)

    done = job_page(marketing, job)
    assert 'http-equiv="refresh"' not in done
    assert f'value="{job.leads_total}"' in done
    assert job.leads_total >= 1
    assert "1 lead would change under v2" in done
    assert "<li>1 lead would become MQL</li>" in done
    assert "eve@plant.example" in done
    assert '<span class="lead-stage lead-stage-lead">Lead</span><span class="rule-arrow">→</span>' in done
    assert "Apply v2…" in done
    lead = Lead.objects.get(user=eve)
    assert (lead.stage, lead.rule_set_id) == ("lead", RuleSet.objects.get(version=1).pk)  # a preview writes nothing


def test_apply_asks_first_then_the_worker_rescores_every_lead(
    marketing: Client, active: RuleSet, draft: RuleSet, eve: User
) -> None:
    RuleSet.objects.filter(pk=draft.pk).update(mql_engagement=50)
    draft.refresh_from_db()
    preview = RescoreJob.objects.create(rule_set=draft, mode="preview")
    rescore_run(job=preview)

    asked = marketing.get(f"{RULES}{draft.pk}/apply/", **HOST)

    content = asked.content.decode()
    assert asked.status_code == 200
    assert "Yes, apply v2" in content
    assert "1 lead would change" in content
    assert "1 lead would become MQL" in content
    assert "MQL at engagement" in content  # what changes from v1: 60 → 50
    draft.refresh_from_db()
    assert draft.status == "draft"  # asking changes nothing

    response = marketing.post(f"{RULES}{draft.pk}/apply/", {"confirmed": "yes"}, **HOST)

    job = RescoreJob.objects.get(rule_set=draft, mode="apply")
    assert response["Location"] == f"{RULES}{draft.pk}/jobs/{job.pk}/"
    draft.refresh_from_db()
    active.refresh_from_db()
    assert (draft.status, active.status) == ("active", "retired")
    assert draft.applied_by is not None
    assert draft.applied_by.email == "marketing@vendor.example"

    rescore_run(job=job)

    assert "Applied: every lead is scored by v2 now." in job_page(marketing, job)
    lead = Lead.objects.get(user=eve)
    assert (lead.stage, lead.rule_set_id) == ("mql", draft.pk)
    page = marketing.get(f"{RULES}{draft.pk}/change/", **HOST).content.decode()
    assert f"{timezone.localtime(draft.applied_at):%-d %b %Y %H:%M} by marketing@vendor.example" in page
    assert page.count(f"{RULES}{draft.pk}/jobs/") == 2  # the preview and the application, listed
    assert 'name="_save"' not in page  # applied: read-only from now on


def test_only_a_draft_is_previewed_or_applied(marketing: Client, active: RuleSet) -> None:
    preview = marketing.post(f"{RULES}{active.pk}/preview/", follow=True, **HOST)
    asked = marketing.get(f"{RULES}{active.pk}/apply/", follow=True, **HOST)
    applied = marketing.post(f"{RULES}{active.pk}/apply/", {"confirmed": "yes"}, follow=True, **HOST)

    assert "make a new version to change the rules" in preview.content.decode()
    assert "Version 1 is not a draft: it cannot be applied." in asked.content.decode()
    assert "make a new version to change the rules" in applied.content.decode()
    assert not RescoreJob.objects.exists()
    active.refresh_from_db()
    assert active.status == "active"


def test_apply_without_confirming_only_asks(marketing: Client, draft: RuleSet) -> None:
    response = marketing.post(f"{RULES}{draft.pk}/apply/", {}, **HOST)

    assert response.status_code == 200
    assert "Yes, apply v2" in response.content.decode()
    assert not RescoreJob.objects.exists()


def test_a_failed_job_says_so(marketing: Client, draft: RuleSet) -> None:
    job = RescoreJob.objects.create(rule_set=draft, mode="preview", status="failed", error="RuntimeError('boom')")

    page = job_page(marketing, job)

    assert "The job failed: RuntimeError(&#x27;boom&#x27;)" in page
    assert 'http-equiv="refresh"' not in page


def test_sales_may_follow_a_job_but_a_job_of_another_rule_set_is_404(
    sales: Client, active: RuleSet, draft: RuleSet
) -> None:
    job = RescoreJob.objects.create(rule_set=draft, mode="preview")

    assert "Apply v2" not in job_page(sales, job)
    assert sales.get(f"{RULES}{active.pk}/jobs/{job.pk}/", **HOST).status_code == 404
    assert sales.get(f"{RULES}{draft.pk}/jobs/999999/", **HOST).status_code == 404


def test_rules_of_the_draft_offer_every_known_signal(marketing: Client, draft: RuleSet) -> None:
    page = marketing.get(f"{RULES}{draft.pk}/change/", **HOST)

    form = page.context["inline_admin_formsets"][0].formset.forms[0]
    groups = dict(form.fields["signal"].choices)
    assert {"role_executive", "company_size_enterprise", "industry_cement", "free_mail"} <= {
        signal for signal, _ in groups["Fit"]
    }
    assert {"pricing_requested", "feature_depth", "quick_abandonment"} <= {signal for signal, _ in groups["Engagement"]}
    assert "demo_abandoned" not in {signal for signal, _ in groups["Engagement"]}  # never scored by name
    assert Rule.objects.filter(rule_set=draft).count() == len(page.context["inline_admin_formsets"][0].formset.forms)
