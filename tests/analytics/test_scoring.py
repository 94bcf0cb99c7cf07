"""The scoring rules as plain functions (analytics/scoring.py): every default rule, the derived signals'
edges, the per-demo caps, fit and its grades, decay and the MQL grid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from analytics import scoring
from analytics.scoring import DEFAULT_RULES, Fact, Parameters, Profile

T0 = datetime(2026, 12, 2, 14, 3, tzinfo=UTC)
NAMES = {"boileroptimizer": "BoilerOptimizer", "thermalcommand": "ThermalCommand"}
ids = count(1)


def fact(name: str, minutes: float = 0, product: str = "boileroptimizer", sandbox: int = 1, **properties: Any) -> Fact:
    return Fact(next(ids), name, T0 + timedelta(minutes=minutes), product, sandbox, properties)


def earned(facts: list[Fact], parameters: Parameters | None = None) -> list[tuple[str, int]]:
    found = scoring.engagement(facts, DEFAULT_RULES, parameters or Parameters(), NAMES)
    return [(c.signal, c.points) for c in found]


@pytest.mark.parametrize(
    ("event", "points"),
    [
        ("pricing_requested", 50),
        ("sales_contact_requested", 40),
        ("demo_extended", 30),
        ("demo_completed", 20),
        ("report_generated", 15),
        ("demo_started", 5),
        ("poc_started", 50),
        ("savings_calculated", 10),
        ("optimization_applied", 10),
        ("alert_acknowledged", 5),
    ],
)
def test_each_event_rule_gives_its_points_once_per_product_demo(event: str, points: int) -> None:
    assert earned([fact(event), fact(event, 1)]) == [(event, points)]
    assert earned([fact(event), fact(event, 1, product="thermalcommand")]) == [(event, points), (event, points)]


def test_events_without_a_rule_score_nothing() -> None:
    assert earned([fact("page_view"), fact("anomaly_detected"), fact("feature_viewed", feature="kpis")]) == []


def test_a_rule_may_count_more_often_when_its_cap_says_so() -> None:
    rules = [scoring.RuleSpec("engagement", "report_generated", 15, max_per_demo=2)]
    found = scoring.engagement([fact("report_generated", m) for m in range(4)], rules, Parameters(), NAMES)
    assert [c.key for c in found] == ["report_generated:boileroptimizer:1", "report_generated:boileroptimizer:2"]


def test_an_extension_staff_gave_is_not_the_prospects_engagement() -> None:
    assert earned([fact("demo_extended", by_staff=True)]) == []
    assert earned([fact("demo_extended", by_staff=False)]) == [("demo_extended", 30)]


def test_feature_depth_counts_the_sixth_distinct_feature_of_one_demo() -> None:
    five = [fact("feature_viewed", m, feature=f"f{m}") for m in range(5)]
    repeated = [fact("feature_clicked", 6, feature="f1")]
    assert earned(five + repeated) == []  # more than 5 means 6: five, clicked twice, are not enough
    sixth = fact("feature_viewed", 7, feature="f6")
    found = scoring.engagement([*five, sixth], DEFAULT_RULES, Parameters(), NAMES)
    assert [(c.signal, c.points, c.event_id) for c in found] == [("feature_depth", 25, sixth.id)]
    assert found[0].explanation == "explored 6 features of BoilerOptimizer"


def test_value_moments_are_features_and_two_products_do_not_add_up() -> None:
    mixed = [fact("feature_viewed", m, feature=f"f{m}") for m in range(4)]
    mixed += [fact("feature_viewed", 5, product="thermalcommand", feature="f9")]
    assert "feature_depth" not in dict(earned(mixed))
    mixed += [fact("savings_calculated", 6)]
    assert "feature_depth" not in dict(earned(mixed))  # five in BoilerOptimizer
    mixed += [fact("report_generated", 7)]
    assert dict(earned(mixed))["feature_depth"] == 25


def test_a_second_visit_is_30_minutes_of_quiet_later() -> None:
    assert "multiple_sessions" not in dict(earned([fact("page_view", 0), fact("page_view", 29.9)]))
    found = earned([fact("page_view", 0), fact("page_view", 30)])
    assert found == [("multiple_sessions", 10)]
    assert earned([fact("page_view", 0), fact("page_view", 30), fact("page_view", 70)]) == [("multiple_sessions", 10)]
    ten_minutes = Parameters(session_gap=timedelta(minutes=10))
    assert earned([fact("page_view", 0), fact("page_view", 11)], ten_minutes) == [("multiple_sessions", 10)]


def test_quick_abandonment_is_under_five_minutes_of_activity_after_the_start() -> None:
    quick = [fact("demo_started", 0), fact("page_view", 4.9), fact("demo_abandoned", 35)]
    assert earned(quick) == [("demo_started", 5), ("quick_abandonment", -10)]
    stayed = [fact("demo_started", 0), fact("page_view", 5), fact("demo_abandoned", 36)]
    assert earned(stayed) == [("demo_started", 5)]
    other_sandbox = [fact("demo_started", 0), fact("page_view", 9, sandbox=2), fact("demo_abandoned", 40)]
    assert ("quick_abandonment", -10) in earned(other_sandbox)  # activity elsewhere does not count
    two_minutes = Parameters(quick_abandonment=timedelta(minutes=2))
    assert earned(quick, two_minutes) == [("demo_started", 5)]
    assert earned([fact("demo_abandoned", 35)]) == []  # never started here: not measurable


def test_the_abandonment_the_system_records_is_not_a_visit() -> None:
    assert "multiple_sessions" not in dict(earned([fact("demo_started", 0), fact("demo_abandoned", 45)]))


def test_explanations_name_the_product() -> None:
    found = scoring.engagement([fact("pricing_requested")], DEFAULT_RULES, Parameters(), NAMES)
    assert found[0].explanation == "requested pricing for BoilerOptimizer"
    assert found[0].hand_raise


def profile(**fields: Any) -> Profile:
    return Profile(**{"email_domain": "northwind.example", **fields})


@pytest.mark.parametrize(
    ("fields", "score", "grade"),
    [
        ({"role": "executive", "company_size": "enterprise", "industries": ["steel"], "country": "DE"}, 100, "A"),
        ({"role": "engineer", "industries": ["cement"], "country": "US"}, 70, "A"),
        ({"role": "engineer", "industries": ["food_beverage"]}, 55, "B"),
        ({"role": "operator", "personal_email": True, "industries": ["steel"], "country": "US"}, 15, "D"),
        ({"role": "consultant", "company_size": "small"}, 35, "C"),
        ({"role": "engineer", "partner": "Heat Partners"}, 5, "D"),
        ({"role": "operator", "personal_email": True}, 0, "D"),  # never below 0
    ],
)
def test_fit_adds_up_the_profile_and_grades_it(fields: dict[str, Any], score: int, grade: str) -> None:
    contributions = scoring.fit(profile(**fields), DEFAULT_RULES, at=T0)
    assert scoring.fit_score(contributions) == score
    assert scoring.grade(score) == grade


def test_fit_takes_the_best_industry_demoed_once() -> None:
    found = scoring.fit(profile(industries=["food_beverage", "steel", "cement"]), DEFAULT_RULES, at=T0)
    assert [(c.signal, c.points) for c in found] == [("business_email", 20), ("industry_steel", 15)]


def test_the_industry_is_explained_by_its_display_name() -> None:
    names = {"food_beverage": "Food & beverage"}
    (_, industry) = scoring.fit(profile(industries=["food_beverage"], industry_names=names), DEFAULT_RULES, at=T0)
    assert industry.explanation == "demoed the Food & beverage scenario"


@pytest.mark.parametrize(("score", "grade"), [(70, "A"), (69, "B"), (50, "B"), (49, "C"), (30, "C"), (29, "D")])
def test_grade_floors(score: int, grade: str) -> None:
    assert scoring.grade(score) == grade


def test_points_halve_every_half_life_and_a_future_date_does_not_grow_them() -> None:
    half = timedelta(days=30)
    assert scoring.decayed(50, T0, T0, half) == 50
    assert scoring.decayed(50, T0, T0 + half, half) == pytest.approx(25)
    assert scoring.decayed(50, T0, T0 + 2 * half, half) == pytest.approx(12.5)
    assert scoring.decayed(50, T0 + timedelta(minutes=3), T0, half) == 50


def test_stored_weights_decay_to_the_same_score_as_each_point_decayed_by_itself() -> None:
    parameters = Parameters(half_lives={"intent": timedelta(days=10), "activity": timedelta(days=40)})
    facts = [fact("pricing_requested", 0), fact("report_generated", 60 * 24 * 3), fact("demo_started", 60 * 24 * 9)]
    found = scoring.engagement(facts, DEFAULT_RULES, parameters, NAMES)
    anchor = T0 + timedelta(days=12)
    later = T0 + timedelta(days=50)
    stored = scoring.engagement_at(scoring.weights(found, anchor, parameters), anchor, later, parameters)
    each = sum(scoring.decayed(c.points, c.at, later, parameters.half_lives[c.group]) for c in found)
    assert stored == pytest.approx(each)
    # pricing (intent, 50 days old), the report and the second visit (day 3), the late demo start (day 9)
    assert stored == pytest.approx(50 * 0.5**5 + (15 + 10) * 0.5 ** (47 / 40) + 5 * 0.5 ** (41 / 40))


def test_the_grid_qualifies_on_a_hand_raise_or_on_engagement_with_fit_a_to_c() -> None:
    parameters = Parameters()
    hand = scoring.engagement([fact("pricing_requested")], DEFAULT_RULES, parameters, NAMES)
    assert scoring.qualifying_reason(fit_grade="D", engagement_now=0, hand_raises=hand, parameters=parameters) == (
        "Hand-raise: requested pricing for BoilerOptimizer"
    )
    assert scoring.qualifying_reason(fit_grade="C", engagement_now=60, hand_raises=[], parameters=parameters)
    assert scoring.qualifying_reason(fit_grade="C", engagement_now=59.5, hand_raises=[], parameters=parameters)
    assert not scoring.qualifying_reason(fit_grade="C", engagement_now=59.4, hand_raises=[], parameters=parameters)
    assert not scoring.qualifying_reason(fit_grade="D", engagement_now=99, hand_raises=[], parameters=parameters)


def test_the_recommended_action_follows_the_stage_and_the_signals() -> None:
    parameters = Parameters()
    pricing = scoring.engagement([fact("pricing_requested")], DEFAULT_RULES, parameters, NAMES)
    action = scoring.recommended_action(
        stage="mql",
        stage_reason="",
        contributions=pricing,
        engagement_now=50,
        parameters=parameters,
        colleagues=["their engineer completed the BoilerOptimizer tour"],
    )
    assert action == (
        "Call today — requested pricing for BoilerOptimizer; their engineer completed the BoilerOptimizer tour"
    )
    left = scoring.engagement([fact("demo_started", 0), fact("demo_abandoned", 40)], DEFAULT_RULES, parameters, NAMES)
    assert scoring.recommended_action(
        stage="lead", stage_reason="", contributions=left, engagement_now=0, parameters=parameters
    ).startswith("Re-engage — left the BoilerOptimizer demo within 5 minutes")
    assert (
        scoring.recommended_action(
            stage="disqualified", stage_reason="student", contributions=[], engagement_now=0, parameters=parameters
        )
        == "None — disqualified (student)"
    )
