"""Marketing's dashboards (analytics/services/rollups.py, analytics/selectors/dashboards.py): every figure checked
against what a small, known set of demos adds up to by hand.

The demos are recorded as the portal records them (``event_record``, with the times they happened) in ended
sandboxes without schemas, and summed by the refresh beat runs (``rollups_refresh``). Days are UTC unless a test
says otherwise. The story (``story_make``), one week and a bit before today:

=====  =========  =================================================  ======================================
demo   day        product / industry / role, source                  what happened
=====  =========  =================================================  ======================================
A      d0 10:00   boileroptimizer / cement / engineer, self-service  tour (welcome, history), completed; 1200 s
B      d0 14:00   thermalcommand / steel / operator, self-service    tour left at history, on /assets/F-101/,
                                                                     abandoned; 360 s
G      d0 16:00   boileroptimizer / cement / engineer, self-service  pricing; then its prospect erased; 300 s
C      d1 09:00   boileroptimizer / chemicals / engineer             two visits (600 s + 900 s), tour left at
                                                                     welcome
E      d1 15:00   wasteheatrecovery / food_beverage / consultant,    pricing, completed; 1800 s
                  the partner's
D      d2 11:00   emissionsguardian / cement / executive, sales-made 300 s; sales accepted, EUR opportunity
F      d2 13:00   thermalcommand / steel / executive, self-service   pricing, sales call (1200 s), a POC the next
                                                                     day (a second visit); USD opportunity
H      d0 − 3     thermalcommand / steel / executive                 completed, 1200 s: the previous period
=====  =========  =================================================  ======================================
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from analytics.models import (
    EVENT_NAMES,
    DemoDay,
    DemoStale,
    DemoSummary,
    Event,
    ExitPageDay,
    FeatureDay,
    LaunchTargets,
    Lead,
    LeadSnapshot,
    Rule,
    RuleSet,
    TourStepDay,
)
from analytics.selectors.dashboards import (
    Filters,
    demo_performance,
    lead_quality,
    product_engagement,
    targets_progress,
)
from analytics.selectors.leads import engagement_now
from analytics.services import events as event_services
from analytics.services import rollups
from analytics.services.events import event_record
from analytics.services.leads import lead_stage_set, rule_set_active
from analytics.services.rollups import day_of, leads_snapshot, rollups_rebuild, rollups_refresh
from analytics.services.rules import rescore_run, rescore_start, rule_set_new_version
from analytics.services.sample import sample_activity_create, sample_activity_remove
from demoportal.core.models import Partner, User
from sandboxes.models import Sandbox
from tests.conftest import wait_for

slugs = count(1)


def at(day: date, hh_mm: str) -> datetime:
    hours, minutes = (int(part) for part in hh_mm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=UTC)


def prospect(email: str, role: str, **fields: Any) -> User:
    """A prospect who agreed to be contacted (a lead once they do something), in a sales country."""
    consent = fields.pop("contact_consent_at", timezone.now())
    return User.objects.create_user(email=email, role=role, country="US", contact_consent_at=consent, **fields)


def staff(group: str, email: str | None = None) -> User:
    user = User.objects.create_user(email=email or f"{group.lower()}@vendor.example", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def ended_demo(user: User | None, product: str, industry: str, role: str, partner: Partner | None = None) -> Sandbox:
    """An ended demo sandbox: the row only, as the sample data's (bulk_create makes no schema)."""
    n = next(slugs)
    ended = timezone.now() - timedelta(hours=1)
    made: list[Sandbox] = Sandbox.objects.bulk_create(
        [
            Sandbox(
                schema_name=f"dash_{n}",
                slug=f"dash-{n}",
                name=f"Dashboard plant {n}",
                kind=Sandbox.Kind.DEMO,
                status=Sandbox.Status.EXPIRED,
                industry=industry,
                product=product,
                role=role,
                owner=user,
                partner=partner,
                expires_at=ended,
                ended_at=ended,
            )
        ]
    )
    return made[0]


def did(user: User | None, name: str, sandbox: Sandbox | None, when: datetime, **properties: Any) -> Event:
    event, created = event_record(name=name, user=user, sandbox=sandbox, properties=properties, occurred_at=when)
    assert created
    return event


def started(user: User | None, sandbox: Sandbox, when: datetime, source: str = "self_service") -> Event:
    """``demo_started`` with the properties the portal's receiver gives it (analytics/receivers.py)."""
    properties = {"product": sandbox.product, "industry": sandbox.industry, "role": sandbox.role, "source": source}
    return did(user, "demo_started", sandbox, when, from_pool=False, **properties)


def step(user: User, sandbox: Sandbox, when: datetime, name: str) -> Event:
    """A tour step as the tour's script records it."""
    tour = f"{sandbox.product}.{sandbox.role}"
    return did(user, "feature_viewed", sandbox, when, feature=f"tour.{name}", tour=tour, step=name)


@dataclass
class Story:
    today: date
    d0: date  # the Monday of the week before last
    now: datetime  # the lead figures' "now" (engagement decays)
    users: dict[str, User]
    demos: dict[str, Sandbox]
    partner: Partner

    @property
    def d1(self) -> date:
        return self.d0 + timedelta(days=1)

    @property
    def d2(self) -> date:
        return self.d0 + timedelta(days=2)

    def filters(self, **segment: Any) -> Filters:
        """From d0 to today: every demo of the story but H, and every lead (made today)."""
        return Filters(start=self.d0, end=self.today, **segment)


def story_make() -> Story:
    """The story of the module's docstring, refreshed; fay (demo G) erased before the refresh."""
    today = day_of(timezone.now())
    d0 = today - timedelta(days=today.weekday() + 7)
    d1, d2, d3 = (d0 + timedelta(days=n) for n in (1, 2, 3))
    partner = Partner.objects.create(name="Heatwise Engineering", slug="heatwise", email_domains=["heatwise.example"])
    salesperson = staff("Sales")
    users = {
        "ada": prospect("ada@northwind.example", "engineer"),
        "bo": prospect("bo@eastgate.example", "operator"),
        "cy": prospect("cy@westfield.example", "engineer"),
        "pat": prospect("pat@heatwise.example", "consultant", partner=partner),
        "dee": prospect("dee@summit.example", "executive"),
        "eve": prospect("eve@summit.example", "executive"),
        "fay": prospect("fay@oakridge.example", "engineer"),
        "gus": prospect("gus@riverside.example", "executive", contact_consent_at=None),  # no lead
    }
    u = users
    demos = {
        "A": ended_demo(u["ada"], "boileroptimizer", "cement", "engineer"),
        "B": ended_demo(u["bo"], "thermalcommand", "steel", "operator"),
        "G": ended_demo(u["fay"], "boileroptimizer", "cement", "engineer"),
        "C": ended_demo(u["cy"], "boileroptimizer", "chemicals", "engineer"),
        "E": ended_demo(u["pat"], "wasteheatrecovery", "food_beverage", "consultant", partner=partner),
        "D": ended_demo(u["dee"], "emissionsguardian", "cement", "executive"),
        "F": ended_demo(u["eve"], "thermalcommand", "steel", "executive"),
        "H": ended_demo(u["gus"], "thermalcommand", "steel", "executive"),
    }
    a, b, g, c, e, d, f, h = (demos[key] for key in "ABGCEDFH")

    # A, the completer: 10:00 → 10:20.
    started(u["ada"], a, at(d0, "10:00"))
    did(u["ada"], "feature_viewed", a, at(d0, "10:02"), feature="kpis")
    did(u["ada"], "feature_clicked", a, at(d0, "10:03"), feature="kpis")
    step(u["ada"], a, at(d0, "10:05"), "welcome")
    step(u["ada"], a, at(d0, "10:08"), "history")
    did(u["ada"], "demo_completed", a, at(d0, "10:20"), tour="boileroptimizer.engineer", steps_done=2)
    # B, the abandoner: 14:00 → 14:06, then the beat's demo_abandoned half an hour later (not activity).
    started(u["bo"], b, at(d0, "14:00"))
    did(u["bo"], "page_view", b, at(d0, "14:01"), path="/assets/")
    step(u["bo"], b, at(d0, "14:02"), "welcome")
    did(u["bo"], "page_view", b, at(d0, "14:04"), path="/assets/F-101/")
    step(u["bo"], b, at(d0, "14:04"), "history")
    did(u["bo"], "feature_viewed", b, at(d0, "14:06"), feature="events")
    did(u["bo"], "demo_abandoned", b, at(d0, "14:36"), idle_minutes=30)
    # G, the prospect who will be erased: 16:00 → 16:05.
    started(u["fay"], g, at(d0, "16:00"))
    did(u["fay"], "pricing_requested", g, at(d0, "16:05"), product="boileroptimizer", sites=1)
    # C, the repeat visitor: 09:00 → 09:10, then 10:00 → 10:15 (50 minutes apart: two visits).
    started(u["cy"], c, at(d1, "09:00"))
    step(u["cy"], c, at(d1, "09:05"), "welcome")
    did(u["cy"], "feature_viewed", c, at(d1, "09:10"), feature="kpis")
    did(u["cy"], "feature_viewed", c, at(d1, "10:00"), feature="history")
    did(u["cy"], "feature_viewed", c, at(d1, "10:15"), feature="kpis")
    # E, the partner's demo: 15:00 → 15:30.
    started(u["pat"], e, at(d1, "15:00"), source="partner")
    did(u["pat"], "dashboard_accessed", e, at(d1, "15:10"))
    did(u["pat"], "pricing_requested", e, at(d1, "15:20"), product="wasteheatrecovery", sites=2)
    did(u["pat"], "demo_completed", e, at(d1, "15:30"))
    # D, made by sales for the prospect: 11:00 → 11:05.
    started(u["dee"], d, at(d2, "11:00"), source="sales")
    did(u["dee"], "feature_viewed", d, at(d2, "11:05"), feature="kpis")
    # F, the hand-raiser: 13:00 → 13:20, and a POC the next morning.
    started(u["eve"], f, at(d2, "13:00"))
    did(u["eve"], "pricing_requested", f, at(d2, "13:10"), product="thermalcommand", sites=3)
    did(u["eve"], "sales_contact_requested", f, at(d2, "13:20"))
    did(u["eve"], "poc_started", f, at(d3, "09:00"), product="thermalcommand", objective="fuel")
    # H, in the period before: 10:00 → 10:20, completed.
    previous = d0 - timedelta(days=3)
    started(u["gus"], h, at(previous, "10:00"))
    did(u["gus"], "demo_completed", h, at(previous, "10:20"))

    # Sales: dee accepted and an opportunity in EUR; eve accepted and an opportunity in USD.
    for name, value, currency in (("dee", "40000", "EUR"), ("eve", "250000", "USD")):
        lead = lead_stage_set(lead=Lead.objects.get(user=u[name]), action="accept", actor=salesperson)
        lead_stage_set(
            lead=lead, action="opportunity", actor=salesperson, opportunity_value=Decimal(value), currency=currency
        )
    u["fay"].delete()  # erasure: demo G stays, anonymous; fay's lead goes
    rollups_refresh()
    now = LeadSnapshot.objects.get().taken_at  # the moment the lead figures were taken
    return Story(today=today, d0=d0, now=now, users=users, demos=demos, partner=partner)


def no_demos() -> dict[str, Any]:
    return {
        "demos_started": 0,
        "completion_rate": None,
        "avg_duration": None,
        "conversion_rate": None,
        "demos_completed": 0,
        "demos_converted": 0,
        "demos_abandoned": 0,
        "pricing_requests": 0,
        "sales_meetings": 0,
        "pocs": 0,
    }


# --- Demo Performance ------------------------------------------------------------------------------------


def test_demo_performance_adds_up_the_storys_demos(story: Story) -> None:
    shown = demo_performance(story.filters())

    totals = {key: value for key, value in shown.items() if key not in ("previous", "series", "segments")}
    assert totals == {
        "demos_started": 7,  # A B G C E D F
        "completion_rate": 0.2857,  # A, E: 2 / 7
        "avg_duration": 951.4,  # (1200 + 360 + 300 + 1500 + 1800 + 300 + 1200) / 7 = 6660 / 7
        "conversion_rate": 0.4286,  # G, E, F: 3 / 7
        "demos_completed": 2,
        "demos_converted": 3,
        "demos_abandoned": 1,  # B
        "pricing_requests": 3,  # G, E, F
        "sales_meetings": 1,  # F
        "pocs": 1,  # F's, the day after it started
    }
    assert shown["previous"] == {
        **no_demos(),
        "demos_started": 1,  # H
        "completion_rate": 1.0,
        "avg_duration": 1200.0,
        "conversion_rate": 0.0,
        "demos_completed": 1,
    }


def test_the_duration_of_a_demo_with_two_visits_is_the_sum_of_the_visits(story: Story) -> None:
    repeat = DemoSummary.objects.get(sandbox_id=story.demos["C"].pk)
    assert (repeat.duration_seconds, repeat.visits) == (600 + 900, 2)
    abandoned = DemoSummary.objects.get(sandbox_id=story.demos["B"].pk)
    assert (abandoned.duration_seconds, abandoned.abandoned) == (360, True)  # demo_abandoned is not activity


def test_the_series_has_every_day_of_the_range(story: Story) -> None:
    series = demo_performance(story.filters())["series"]

    assert [row["period"] for row in series] == [
        (story.d0 + timedelta(days=n)).isoformat() for n in range((story.today - story.d0).days + 1)
    ]
    by_day = {row.pop("period"): row for row in series}
    assert by_day.pop(story.d0.isoformat()) == {
        **no_demos(),
        "demos_started": 3,  # A B G
        "completion_rate": 0.3333,
        "avg_duration": 620.0,  # (1200 + 360 + 300) / 3
        "conversion_rate": 0.3333,
        "demos_completed": 1,
        "demos_converted": 1,
        "demos_abandoned": 1,
        "pricing_requests": 1,
    }
    assert by_day.pop(story.d1.isoformat()) == {
        **no_demos(),
        "demos_started": 2,  # C E
        "completion_rate": 0.5,
        "avg_duration": 1650.0,  # (1500 + 1800) / 2
        "conversion_rate": 0.5,
        "demos_completed": 1,
        "demos_converted": 1,
        "pricing_requests": 1,
    }
    assert by_day.pop(story.d2.isoformat()) == {
        **no_demos(),
        "demos_started": 2,  # D F
        "completion_rate": 0.0,
        "avg_duration": 750.0,  # (300 + 1200) / 2
        "conversion_rate": 0.5,
        "demos_converted": 1,
        "pricing_requests": 1,
        "sales_meetings": 1,
        "pocs": 1,  # on the day F started, not the day of the POC
    }
    assert all(row == no_demos() for row in by_day.values())


def test_the_series_by_week_starts_on_mondays(story: Story) -> None:
    series = demo_performance(story.filters(interval="week"))["series"]

    second_monday = story.d0 + timedelta(days=7)
    assert [row["period"] for row in series] == [story.d0.isoformat(), second_monday.isoformat()]
    assert series[0]["demos_started"] == 7
    assert series[0]["avg_duration"] == 951.4
    assert series[1] == {"period": second_monday.isoformat(), **no_demos()}


def test_a_range_longer_than_62_days_is_charted_by_week() -> None:
    start = date(2026, 1, 5)  # a Monday

    assert Filters(start=start, end=start + timedelta(days=61)).grain == "day"
    assert Filters(start=start, end=start + timedelta(days=62)).grain == "week"
    assert Filters(start=start, end=start + timedelta(days=3), interval="week").grain == "week"


def test_segments_are_product_by_industry_by_role(story: Story) -> None:
    segments = demo_performance(story.filters())["segments"]

    def key(row: dict[str, Any]) -> tuple[str, str, str]:
        return row["product"], row["industry"], row["role"]

    assert key(segments[0]) == ("boileroptimizer", "cement", "engineer")
    assert segments[0] == {
        "product": "boileroptimizer",
        "industry": "cement",
        "role": "engineer",
        **no_demos(),
        "demos_started": 2,  # A and G
        "completion_rate": 0.5,
        "avg_duration": 750.0,  # (1200 + 300) / 2
        "conversion_rate": 0.5,
        "demos_completed": 1,
        "demos_converted": 1,
        "pricing_requests": 1,
    }
    assert sorted((key(row), row["demos_started"]) for row in segments[1:]) == [
        (("boileroptimizer", "chemicals", "engineer"), 1),
        (("emissionsguardian", "cement", "executive"), 1),
        (("thermalcommand", "steel", "executive"), 1),
        (("thermalcommand", "steel", "operator"), 1),
        (("wasteheatrecovery", "food_beverage", "consultant"), 1),
    ]


# --- Lead Quality ----------------------------------------------------------------------------------------


def band(score: float) -> str:
    rounded = round(score)
    for low, label in ((80, "80+"), (60, "60–79"), (40, "40–59"), (20, "20–39")):
        if rounded >= low:
            return label
    return "0–19"


def test_lead_quality_counts_the_leads_made_in_the_range(story: Story) -> None:
    shown = lead_quality(story.filters())

    # Leads: ada bo cy pat dee eve (fay erased; gus never agreed to be contacted). MQL: pat (pricing), dee (accepted
    # without being one), eve (pricing). SQL: dee, eve. Opportunities: dee (EUR), eve (USD).
    assert {
        key: shown[key] for key in ("leads_generated", "mql_rate", "sql_rate", "mqls", "sqls", "opportunities")
    } == {
        "leads_generated": 6,
        "mql_rate": 0.5,  # 3 / 6
        "sql_rate": 0.6667,  # 2 / 3
        "mqls": 3,
        "sqls": 2,
        "opportunities": 2,
    }
    assert shown["opportunity_value"] == {"EUR": 40000.0, "USD": 250000.0}
    assert shown["previous"] == {
        "leads_generated": 0,
        "mql_rate": None,
        "sql_rate": None,
        "mqls": 0,
        "sqls": 0,
        "opportunities": 0,
        "opportunity_value": {},
    }
    # Every lead was made today, when its first event was recorded (the demos' days are older).
    by_day = {row.pop("period"): row for row in shown["series"]}
    assert by_day.pop(story.today.isoformat()) == {
        "leads_generated": 6,
        "mql_rate": 0.5,
        "sql_rate": 0.6667,
        "mqls": 3,
        "sqls": 2,
        "opportunities": 2,
    }
    assert {row["leads_generated"] for row in by_day.values()} == {0}


def test_the_score_distribution_puts_each_lead_in_its_grade_and_band(story: Story) -> None:
    grid = lead_quality(story.filters())["score_distribution"]

    assert grid["bands"] == ["0–19", "20–39", "40–59", "60–79", "80+"]
    assert grid["mql_engagement"] == 60
    rows = {row["fit_grade"]: row["counts"] for row in grid["grid"]}
    # Fit: a business address 20 and a sales country 10, plus the role and the demo's industry: ada and cy
    # 25 + 15, dee and eve 30 + 15 (A); bo 10 + 15 (B); pat 10 + 10 − 40 for a partner's user (D).
    assert {grade: sum(counts) for grade, counts in rows.items()} == {"A": 4, "B": 1, "C": 0, "D": 1}
    expected = {grade: [0] * 5 for grade in "ABCD"}
    for lead in Lead.objects.all():
        expected[lead.fit_grade][grid["bands"].index(band(engagement_now(lead, story.now)))] += 1
    assert rows == expected
    assert rows["A"][4] == 1  # eve: pricing 50, a sales call 40, a POC 50 and more, barely decayed


def test_top_accounts_add_up_their_people_by_engagement(story: Story) -> None:
    accounts = lead_quality(story.filters())["top_accounts"]

    leads = {lead.user.email: lead for lead in Lead.objects.select_related("user")}

    def engagement(*emails: str) -> float:
        return round(sum(engagement_now(leads[email], story.now) for email in emails))

    assert [(row["account"], row["people"], row["stage"]) for row in accounts] == [
        ("summit.example", 2, "opportunity"),
        ("heatwise.example", 1, "mql"),
        ("northwind.example", 1, "lead"),
        ("westfield.example", 1, "lead"),
        ("eastgate.example", 1, "lead"),
    ]
    assert accounts[0]["engagement"] == engagement("dee@summit.example", "eve@summit.example")
    assert accounts[1]["engagement"] == engagement("pat@heatwise.example")
    assert accounts[0]["last_activity_at"] == at(story.d2 + timedelta(days=1), "09:00").isoformat()  # eve's POC
    assert "oakridge.example" not in {row["account"] for row in accounts}  # fay's, erased


def test_lead_figures_are_those_of_the_last_snapshot_taken_as_engagement_decays(story: Story) -> None:
    later = story.now + timedelta(days=45)  # a half-life and a half (30 days): eve's 80+ has decayed
    shown = lead_quality(story.filters())
    assert shown["as_of"] == story.now.isoformat()

    leads_snapshot(now=later)

    moved = lead_quality(story.filters())
    assert moved["as_of"] == later.isoformat()
    expected = {grade: [0] * 5 for grade in "ABCD"}
    for lead in Lead.objects.all():
        expected[lead.fit_grade][moved["score_distribution"]["bands"].index(band(engagement_now(lead, later)))] += 1
    assert {row["fit_grade"]: row["counts"] for row in moved["score_distribution"]["grid"]} == expected
    assert expected["A"][4] == 0  # eve went down a band or more
    summit = [lead for lead in Lead.objects.all() if lead.account_domain == "summit.example"]
    assert moved["top_accounts"][0]["engagement"] == round(sum(engagement_now(lead, later) for lead in summit))
    assert moved["top_accounts"][0]["engagement"] < shown["top_accounts"][0]["engagement"]
    # Who was made when, and who qualified, do not decay.
    assert {key: moved[key] for key in ("leads_generated", "mqls", "sqls", "opportunity_value")} == {
        key: shown[key] for key in ("leads_generated", "mqls", "sqls", "opportunity_value")
    }


# --- Product Engagement ----------------------------------------------------------------------------------


def test_feature_usage_counts_demos_and_uses(story: Story) -> None:
    shown = product_engagement(story.filters())

    assert shown["demos_started"] == 7
    assert shown["feature_usage"] == [
        {"feature": "kpis", "demos": 3, "uses": 5, "share": 0.4286},  # A twice, C twice, D once
        {"feature": "dashboard_accessed", "demos": 1, "uses": 1, "share": 0.1429},  # E (no feature named)
        {"feature": "events", "demos": 1, "uses": 1, "share": 0.1429},  # B
        {"feature": "history", "demos": 1, "uses": 1, "share": 0.1429},  # C
    ]
    assert shown["top_features"] == ["kpis", "dashboard_accessed", "events", "history"]


def test_the_tour_funnel_shows_the_steps_reached_and_left_in_order(story: Story) -> None:
    drop_off = product_engagement(story.filters())["drop_off_points"]

    assert drop_off["tours"] == [
        {
            "tour": "boileroptimizer.engineer",  # A (completed) and C (stopped at welcome, not abandoned: not left)
            "steps": [
                {"step": "welcome", "reached": 2, "left": 0, "reached_share": 1.0},
                {"step": "history", "reached": 1, "left": 0, "reached_share": 0.5},
            ],
        },
        {
            "tour": "thermalcommand.operator",  # B, abandoned after history
            "steps": [
                {"step": "welcome", "reached": 1, "left": 0, "reached_share": 1.0},
                {"step": "history", "reached": 1, "left": 1, "reached_share": 1.0},
            ],
        },
    ]
    assert drop_off["exit_pages"] == [{"path": "/assets/F-101/", "demos": 1}]  # B's last page


def test_the_funnel_orders_steps_by_where_demos_reached_them_not_by_name(story: Story) -> None:
    user = story.users["ada"]
    later = ended_demo(user, "boileroptimizer", "steel", "engineer")
    started(user, later, at(story.d2, "08:00"))
    for minute, name in enumerate(("welcome", "history", "alarms"), start=1):
        step(user, later, at(story.d2, f"08:0{minute}"), name)
    rollups_refresh()

    [funnel] = [t for t in product_engagement(story.filters())["drop_off_points"]["tours"] if "engineer" in t["tour"]]
    assert [(s["step"], s["reached"], s["left"]) for s in funnel["steps"]] == [
        ("welcome", 3, 0),
        ("history", 2, 0),
        ("alarms", 1, 0),  # neither C nor the later demo was abandoned: still going, not left
    ]


# --- The launch targets ----------------------------------------------------------------------------------


def test_targets_are_paced_over_their_window(db: None) -> None:
    today = day_of(timezone.now())
    launch = today - timedelta(days=9)  # today is the 10th day
    LaunchTargets.objects.create(
        launch_date=launch,
        demos_started_30=6,
        demos_started_90=90,
        completion_rate_30=Decimal("60"),
        completion_rate_90=Decimal("80"),
    )
    early = prospect("early@plant.example", "engineer")
    before = ended_demo(early, "boileroptimizer", "cement", "engineer")
    started(early, before, at(launch - timedelta(days=1), "12:00"))  # before the launch: not counted
    for n, (offset, completes) in enumerate(((0, True), (1, True), (5, False))):
        user = prospect(f"p{n}@plant.example", "engineer")
        sandbox = ended_demo(user, "boileroptimizer", "cement", "engineer")
        started(user, sandbox, at(launch + timedelta(days=offset), "12:00"))
        if completes:
            did(user, "demo_completed", sandbox, at(launch + timedelta(days=offset), "12:30"))
    rollups_refresh()

    progress = targets_progress(today=today)

    assert (progress["launch_date"], progress["set"], progress["days_since_launch"]) == (launch.isoformat(), True, 10)
    thirty, ninety = progress["windows"]
    assert (thirty["days"], thirty["from"], thirty["to"]) == (30, launch.isoformat(), today.isoformat())
    rows30 = {row["metric"]: row for row in thirty["metrics"]}
    rows90 = {row["metric"]: row for row in ninety["metrics"]}
    # 3 demos against 6 in 30 days: 2 expected by the 10th day, on track. Against 90 in 90 days: 10 expected, 7 short.
    assert {k: rows30["demos_started"][k] for k in ("actual", "status", "expected", "behind_by")} == {
        "actual": 3,
        "status": "on track",
        "expected": 2.0,
        "behind_by": 0,
    }
    assert {k: rows90["demos_started"][k] for k in ("actual", "status", "expected", "behind_by")} == {
        "actual": 3,
        "status": "behind",
        "expected": 10.0,
        "behind_by": 7,
    }
    # 2 of 3 completed: 66.7 %, above 60 % all along, 13.3 points short of 80 %.
    assert {k: rows30["completion_rate"][k] for k in ("target", "actual", "status", "behind_by")} == {
        "target": 0.6,
        "actual": 0.6667,
        "status": "on track",
        "behind_by": 0,
    }
    assert {k: rows90["completion_rate"][k] for k in ("target", "actual", "status", "behind_by")} == {
        "target": 0.8,
        "actual": 0.6667,
        "status": "behind",
        "behind_by": 13.3,
    }
    # 4 leads (made today) against the default 200 in 30 days: 200 × 10 / 30 = 66.67 expected, 63 short.
    assert (rows30["leads_generated"]["actual"], rows30["leads_generated"]["behind_by"]) == (4, 63)

    forty_days_on = targets_progress(today=launch + timedelta(days=39))
    thirty = forty_days_on["windows"][0]
    assert thirty["to"] == (launch + timedelta(days=29)).isoformat()  # the window ends; its whole target is due
    assert {row["metric"]: row["expected"] for row in thirty["metrics"]}["demos_started"] == 6.0


# --- Filters, days and their time zone ---------------------------------------------------------------------


FILTER_CASES = [
    # (segment, demos, leads): the demos of the segment; the leads whose first demo (or whose role, partner) it was
    ({"product": "boileroptimizer"}, 3, 2),  # A G C; ada, cy
    ({"industry": "steel"}, 2, 2),  # B F; bo, eve
    ({"role": "executive"}, 2, 2),  # D F; dee, eve
    ({"source": "sales"}, 1, 1),  # D; dee
    ({"source": "partner"}, 1, 1),  # E; pat
    ({"source": "self_service"}, 5, 4),  # A B G C F; ada bo cy eve
    ({"product": "thermalcommand", "role": "operator"}, 1, 1),  # B; bo
]


def test_each_filter_narrows_demos_and_leads(story: Story) -> None:
    for segment, demos, leads in FILTER_CASES:
        filters = story.filters(**segment)

        assert demo_performance(filters)["demos_started"] == demos, segment
        assert product_engagement(filters)["demos_started"] == demos, segment
        assert lead_quality(filters)["leads_generated"] == leads, segment


def test_the_partner_filter_keeps_the_partners_demos_and_leads(story: Story) -> None:
    filters = story.filters(partner_id=story.partner.pk)

    assert demo_performance(filters)["demos_started"] == 1  # E
    assert [row["feature"] for row in product_engagement(filters)["feature_usage"]] == ["dashboard_accessed"]
    shown = lead_quality(filters)
    assert (shown["leads_generated"], shown["mql_rate"]) == (1, 1.0)  # pat, by pricing
    assert [row["account"] for row in shown["top_accounts"]] == ["heatwise.example"]


def test_the_range_includes_to_and_excludes_the_day_after(db: None) -> None:
    day = day_of(timezone.now()) - timedelta(days=4)
    user = prospect("edge@plant.example", "engineer")
    last_second = ended_demo(user, "boileroptimizer", "cement", "engineer")
    started(user, last_second, datetime.combine(day, time(23, 59, 59), tzinfo=UTC))
    next_midnight = ended_demo(user, "thermalcommand", "cement", "engineer")
    started(user, next_midnight, datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC))
    rollups_refresh()

    def demos(start: date, end: date) -> int:
        return int(demo_performance(Filters(start=start, end=end))["demos_started"])

    assert demos(day, day) == 1
    assert demos(day - timedelta(days=2), day) == 1
    assert demos(day + timedelta(days=1), day + timedelta(days=1)) == 1
    assert demos(day, day + timedelta(days=1)) == 2
    today = day_of(timezone.now())
    assert lead_quality(Filters(start=today, end=today))["leads_generated"] == 1
    assert lead_quality(Filters(start=day, end=today - timedelta(days=1)))["leads_generated"] == 0


def test_days_are_dates_in_the_dashboards_time_zone_and_a_rebuild_moves_them(db: None, settings: Any) -> None:
    day = day_of(timezone.now()) - timedelta(days=3)
    user = prospect("night@plant.example", "engineer")
    sandbox = ended_demo(user, "boileroptimizer", "cement", "engineer")
    started(user, sandbox, at(day, "03:00"))  # 22:00 or 21:00 the evening before in Chicago
    rollups_refresh()
    assert DemoDay.objects.get().day == day

    settings.DASHBOARD_TIME_ZONE = "America/Chicago"
    assert demo_performance(Filters(start=day, end=day))["demos_started"] == 1  # until rebuilt, as it was
    assert rollups_rebuild() == 1

    assert demo_performance(Filters(start=day, end=day))["demos_started"] == 0
    assert demo_performance(Filters(start=day - timedelta(days=1), end=day - timedelta(days=1)))["demos_started"] == 1
    assert DemoSummary.objects.get().day == day - timedelta(days=1)

    other = ended_demo(user, "thermalcommand", "cement", "engineer")
    started(user, other, at(day, "04:59"))  # 23:59 in Chicago (CDT) or 22:59 (CST): still the day before
    rollups_refresh()
    assert demo_performance(Filters(start=day - timedelta(days=1), end=day - timedelta(days=1)))["demos_started"] == 2


# --- The rollups stay right ---------------------------------------------------------------------------------


def test_a_late_event_counts_on_the_day_its_demo_started(db: None) -> None:
    yesterday = day_of(timezone.now()) - timedelta(days=1)
    user = prospect("late@plant.example", "engineer")
    sandbox = ended_demo(user, "boileroptimizer", "cement", "engineer")
    started(user, sandbox, at(yesterday, "22:00"))
    did(user, "feature_viewed", sandbox, at(yesterday, "22:20"), feature="kpis")
    rollups_refresh()
    day = Filters(start=yesterday, end=yesterday)
    assert demo_performance(day)["demos_completed"] == 0

    # Sent by the page hours after it happened (a laptop closed, then reopened).
    did(user, "demo_completed", sandbox, at(yesterday, "22:50"))
    assert DemoStale.objects.filter(sandbox_id=sandbox.pk).exists()
    assert rollups_refresh() == 1

    shown = demo_performance(Filters(start=yesterday, end=yesterday + timedelta(days=1)))
    assert (shown["demos_started"], shown["demos_completed"], shown["avg_duration"]) == (1, 1, 3000.0)
    assert [(row["period"], row["demos_completed"]) for row in shown["series"]] == [
        (yesterday.isoformat(), 1),
        ((yesterday + timedelta(days=1)).isoformat(), 0),
    ]


def draft(**changes: Any) -> RuleSet:
    """A new version of the rules in use with ``changes`` to its parameters (as tests/analytics/test_rescore.py)."""
    version = rule_set_new_version(source=rule_set_active(), actor=None)
    RuleSet.objects.filter(pk=version.pk).update(**changes)
    version.refresh_from_db()
    return version


def test_a_new_rule_set_that_makes_more_mqls_raises_the_mql_rate(story: Story) -> None:
    assert lead_quality(story.filters())["mql_rate"] == 0.5
    version = draft(mql_engagement=1, mql_fit_grades="ABCD")
    assert Rule.objects.filter(rule_set=version).exists()

    rescore_run(job=rescore_start(rule_set=version, mode="apply", actor=staff("Marketing")))
    assert lead_quality(story.filters())["mql_rate"] == 0.5  # until the next refresh takes the leads again
    rollups_refresh()

    shown = lead_quality(story.filters())
    # ada, bo and cy have some engagement left: MQLs now, as pat, dee and eve already were.
    assert (shown["mqls"], shown["mql_rate"], shown["sql_rate"]) == (6, 1.0, 0.3333)
    assert shown["score_distribution"]["mql_engagement"] == 1


def test_an_erased_prospects_demo_still_counts_and_their_lead_does_not(story: Story) -> None:
    before = demo_performance(story.filters())
    summary = DemoSummary.objects.get(sandbox_id=story.demos["A"].pk)
    assert summary.user_id == story.users["ada"].pk

    story.users["ada"].delete()

    assert demo_performance(story.filters()) == before
    summary.refresh_from_db()
    assert summary.user_id is None
    assert DemoSummary.objects.get(sandbox_id=story.demos["G"].pk).user_id is None  # fay's, erased before
    rollups_rebuild()  # summarised again from the events, which no longer name anyone
    assert demo_performance(story.filters()) == before
    assert DemoSummary.objects.get(sandbox_id=story.demos["A"].pk).completed
    shown = lead_quality(story.filters())
    assert (shown["leads_generated"], shown["mql_rate"]) == (5, 0.6)  # pat, dee, eve of 5
    assert "northwind.example" not in {row["account"] for row in shown["top_accounts"]}


def dashboards(filters: Filters) -> list[dict[str, Any]]:
    return [demo_performance(filters), lead_quality(filters), product_engagement(filters)]


def test_sample_activity_created_then_removed_leaves_the_dashboards_as_they_were(story: Story) -> None:
    wide = Filters(start=story.today - timedelta(days=70), end=story.today)
    before = dashboards(wide)

    sample_activity_create(leads=6, seed=2)
    assert demo_performance(wide)["demos_started"] > before[0]["demos_started"]
    assert lead_quality(wide)["leads_generated"] > before[1]["leads_generated"]
    sample_activity_remove()
    assert lead_quality(wide)["leads_generated"] == before[1]["leads_generated"]  # the leads taken again at once

    leads_snapshot(now=story.now)  # engagement as it was read before, to compare every figure
    assert dashboards(wide) == before


# --- Stale marks ----------------------------------------------------------------------------------------------


def test_every_event_in_a_sandbox_marks_its_demo_stale(db: None) -> None:
    user = prospect("marks@plant.example", "engineer")
    sandbox = ended_demo(user, "boileroptimizer", "cement", "engineer")
    when = timezone.now() - timedelta(hours=2)

    for name in EVENT_NAMES:
        DemoStale.objects.all().delete()
        did(user, name, sandbox, when)
        assert list(DemoStale.objects.values_list("sandbox_id", flat=True)) == [sandbox.pk], name

    DemoStale.objects.all().delete()
    did(user, "pricing_requested", None, when)  # outside a sandbox: no demo
    assert not DemoStale.objects.exists()


def test_the_stale_mark_is_rolled_back_with_its_event(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    user = prospect("rollback@plant.example", "engineer")
    sandbox = ended_demo(user, "boileroptimizer", "cement", "engineer")

    marked_inside: list[bool] = []

    def request_failing_after_the_event() -> None:
        with transaction.atomic():
            did(user, "demo_started", sandbox, timezone.now())
            marked_inside.append(DemoStale.objects.filter(sandbox_id=sandbox.pk).exists())
            raise RuntimeError("the request failed after the event")

    with pytest.raises(RuntimeError):
        request_failing_after_the_event()
    assert marked_inside == [True]
    assert not DemoStale.objects.exists()
    assert not Event.objects.exists()

    def scoring_fails(**_: Any) -> None:
        raise RuntimeError("scoring failed")

    monkeypatch.setattr(event_services, "lead_refresh", scoring_fails)
    with pytest.raises(RuntimeError):
        event_record(name="demo_started", user=user, sandbox=sandbox)
    assert not DemoStale.objects.exists()
    assert not Event.objects.exists()


def test_a_refresh_takes_the_stale_marks_and_a_second_one_has_nothing_to_do(story: Story) -> None:
    assert not DemoStale.objects.exists()
    assert rollups_refresh() == 0
    assert TourStepDay.objects.exists()


def refresh_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND query ILIKE %s",
            ["%analytics_demostale%"],
        )
        return bool(cursor.fetchone()[0])


def test_an_event_recorded_while_a_refresh_runs_is_not_lost(committed_db: None) -> None:
    """The demo is already stale when its next event is recorded; a refresh taking it before that event's
    transaction commits must not leave the event out with nothing marked stale any more."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone()[0].startswith("test_"), "committed rows only in a test database"
    sandbox = ended_demo(None, "boileroptimizer", "cement", "engineer")
    begun = timezone.now() - timedelta(hours=1)
    try:
        started(None, sandbox, begun)
        rollups_refresh()
        did(None, "feature_viewed", sandbox, begun + timedelta(minutes=1), feature="kpis")  # stale again, committed
        recorded, release = threading.Event(), threading.Event()

        def record() -> None:
            try:
                with transaction.atomic():
                    did(None, "demo_completed", sandbox, begun + timedelta(minutes=2))
                    recorded.set()
                    release.wait(30)
            finally:
                connection.close()

        def refresh() -> None:
            try:
                rollups_refresh()
            finally:
                connection.close()

        recorder = threading.Thread(target=record)
        recorder.start()
        assert recorded.wait(30)
        refresher = threading.Thread(target=refresh)
        refresher.start()
        wait_for(lambda: not refresher.is_alive() or refresh_waits_on_a_lock(), "the refresh to end or to wait")
        release.set()
        recorder.join(30)
        refresher.join(30)
        rollups_refresh()  # beat's next round

        summary = DemoSummary.objects.get(sandbox_id=sandbox.pk)
        assert summary.completed
        assert summary.duration_seconds == 120
    finally:
        day = day_of(begun)
        Event.objects.filter(sandbox_id=sandbox.pk).delete()
        DemoStale.objects.filter(sandbox_id=sandbox.pk).delete()
        DemoSummary.objects.filter(sandbox_id=sandbox.pk).delete()
        for model in (DemoDay, FeatureDay, TourStepDay, ExitPageDay):
            model.objects.filter(day=day).delete()
        Sandbox.objects.filter(pk=sandbox.pk).delete()


def test_an_event_is_not_held_up_by_a_refresh_in_progress(committed_db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refresh that has read a stale demo holds no lock on its mark while it works: the prospect's next event is
    recorded at once (here within a 1 s lock timeout), and the demo stays stale for the refresh's next round."""
    sandbox = ended_demo(None, "boileroptimizer", "cement", "engineer")
    begun = timezone.now() - timedelta(hours=1)
    reading, go_on = threading.Event(), threading.Event()
    rebuild = rollups.summaries_rebuild

    def slow_rebuild(sandbox_ids: Any) -> Any:
        reading.set()
        go_on.wait(30)
        return rebuild(sandbox_ids)

    try:
        started(None, sandbox, begun)
        monkeypatch.setattr(rollups, "summaries_rebuild", slow_rebuild)

        def refresh() -> None:
            try:
                rollups.rollups_refresh()
            finally:
                connection.close()

        refresher = threading.Thread(target=refresh)
        refresher.start()
        assert reading.wait(30)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
                did(None, "demo_completed", sandbox, begun + timedelta(minutes=3))
        finally:
            go_on.set()
            refresher.join(30)

        # The refresh's first round left the moved mark; its next round (it runs until no demo is stale) took it.
        assert DemoSummary.objects.get(sandbox_id=sandbox.pk).completed
        assert not DemoStale.objects.filter(sandbox_id=sandbox.pk).exists()
    finally:
        day = day_of(begun)
        Event.objects.filter(sandbox_id=sandbox.pk).delete()
        DemoStale.objects.filter(sandbox_id=sandbox.pk).delete()
        DemoSummary.objects.filter(sandbox_id=sandbox.pk).delete()
        for model in (DemoDay, FeatureDay, TourStepDay, ExitPageDay):
            model.objects.filter(day=day).delete()
        Sandbox.objects.filter(pk=sandbox.pk).delete()


def test_healthz_reports_the_demos_waiting_for_the_refresh(db: None, client: Any) -> None:
    user = prospect("wait@plant.example", "engineer")
    demo = ended_demo(user, "boileroptimizer", "cement", "engineer")
    started(user, demo, timezone.now() - timedelta(minutes=5))

    waiting = client.get("/healthz", HTTP_HOST="localhost").json()["checks"]["dashboards"]
    rollups_refresh()
    done = client.get("/healthz", HTTP_HOST="localhost").json()["checks"]["dashboards"]

    assert waiting["ok"] is True
    assert waiting["stale_demos"] == 1
    assert waiting["oldest_stale_seconds"] >= 0
    assert waiting["lead_snapshot_age_seconds"] is None  # never taken
    assert {key: done[key] for key in ("ok", "stale_demos", "oldest_stale_seconds")} == {
        "ok": True,
        "stale_demos": 0,
        "oldest_stale_seconds": None,
    }
    assert 0 <= done["lead_snapshot_age_seconds"] < 60
    assert done["lead_snapshot_seconds"] >= 0
