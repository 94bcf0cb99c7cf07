"""The dashboards' rollups (analytics/services/rollups.py): a demo's summary from its events, and the day rollups the
database adds up, checked against the summaries added up here in Python."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from analytics.models import DemoDay, DemoStale, DemoSummary, ExitPageDay, FeatureDay, TourStepDay
from analytics.services.rollups import DemoEvent, days_rollup, rollups_rebuild, rollups_refresh, summary_of
from analytics.services.sample import sample_activity_create

START = datetime(2026, 11, 2, 23, 50, tzinfo=UTC)


def event(name: str, minutes: float, user_id: int = 7, **properties: Any) -> DemoEvent:
    return DemoEvent(41, user_id, name, START + timedelta(minutes=minutes), properties, None)


def test_a_summary_counts_the_starter_s_events_only() -> None:
    started = event("demo_started", 0, product="boileroptimizer", industry="cement", role="engineer")
    colleague = event("pricing_requested", 5, user_id=8)
    tour = [event("feature_viewed", 1 + n, feature=f"tour.{step}", tour="t", step=step) for n, step in enumerate("ab")]
    summary = summary_of([started, *tour, event("feature_viewed", 4, feature="kpis"), colleague], None)

    assert summary is not None
    assert (summary.product, summary.industry, summary.role, summary.source) == (
        "boileroptimizer",
        "cement",
        "engineer",
        "self_service",
    )
    assert summary.pricing == 0
    assert (summary.tour, summary.steps, summary.features) == ("t", ["a", "b"], {"kpis": 1})
    assert summary.day.isoformat() == "2026-11-02"  # UTC, the test settings' DASHBOARD_TIME_ZONE


def test_a_summary_splits_visits_at_half_an_hour_and_keeps_an_abandoned_demo_s_last_page() -> None:
    events = [
        event("demo_started", 0, product="p", industry="i", role="r"),
        event("page_view", 10, path="/assets/B-101/"),
        event("page_view", 50, path="/history"),
        event("demo_abandoned", 90),
    ]
    summary = summary_of(events, None)

    assert summary is not None
    assert (summary.visits, summary.duration_seconds) == (2, 600)
    assert (summary.abandoned, summary.exit_path) == (True, "/history")


def test_no_demo_started_no_summary() -> None:
    assert summary_of([event("page_view", 0, path="/")], None) is None


def days_added_up_here() -> dict[str, Counter[tuple[Any, ...]]]:
    """The day rollups as sums of the summaries, in Python."""
    sums: dict[str, Counter[tuple[Any, ...]]] = {name: Counter() for name in ("demo", "feature", "step", "exit")}
    for s in DemoSummary.objects.all():
        key = (s.day, s.product, s.industry, s.role, s.partner_id, s.source)
        for name, value in (
            ("demos", 1),
            ("completed", s.completed),
            ("abandoned", s.abandoned),
            ("converted", s.converted),
            ("pricing", s.pricing),
            ("meetings", s.meetings),
            ("pocs", s.pocs),
            ("duration_seconds", s.duration_seconds),
        ):
            sums["demo"][(*key, name)] += value
        for feature, uses in s.features.items():
            sums["feature"][(*key, feature, "demos")] += 1
            sums["feature"][(*key, feature, "uses")] += uses
        for position, step in enumerate(s.steps):
            sums["step"][(*key, s.tour, step, "reached")] += 1
            sums["step"][(*key, s.tour, step, "position_sum")] += position
            sums["step"][(*key, s.tour, step, "left")] += position == len(s.steps) - 1 and s.abandoned
        if s.abandoned:
            sums["exit"][(*key, s.exit_path or "(no page)", "demos")] += 1
    return sums


def days_in_the_database() -> dict[str, Counter[tuple[Any, ...]]]:
    segment = ("day", "product", "industry", "role", "partner_id", "source")
    found: dict[str, Counter[tuple[Any, ...]]] = {}
    for name, model, keys, values in (
        (
            "demo",
            DemoDay,
            (),
            ("demos", "completed", "abandoned", "converted", "pricing", "meetings", "pocs", "duration_seconds"),
        ),
        ("feature", FeatureDay, ("feature",), ("demos", "uses")),
        ("step", TourStepDay, ("tour", "step"), ("reached", "position_sum", "left")),
        ("exit", ExitPageDay, ("path",), ("demos",)),
    ):
        found[name] = Counter()
        for row in model.objects.values(*segment, *keys, *values):
            for value in values:
                found[name][(*(row[k] for k in (*segment, *keys)), value)] += row[value]
    return {name: +counter for name, counter in found.items()}  # zero sums dropped, as in days_added_up_here


@pytest.mark.django_db
def test_the_days_add_up_the_summaries_of_the_sample() -> None:
    sample_activity_create(leads=60, seed=3)
    expected = {name: +counter for name, counter in days_added_up_here().items()}

    assert DemoSummary.objects.count() > 60
    assert all(expected.values())
    assert days_in_the_database() == expected


@pytest.mark.django_db
def test_a_refresh_rewrites_a_changed_summary_and_moves_its_day() -> None:
    sample_activity_create(leads=20, seed=4)
    summary = DemoSummary.objects.filter(completed=True).first()
    assert summary is not None
    earlier = summary.day - timedelta(days=3)
    DemoSummary.objects.filter(pk=summary.pk).update(completed=False, day=earlier)
    days_rollup([earlier, summary.day])  # counted, wrongly, three days earlier
    DemoStale.objects.create(sandbox_id=summary.pk)

    assert rollups_refresh() == 1
    assert DemoSummary.objects.get(pk=summary.pk).completed
    assert DemoSummary.objects.get(pk=summary.pk).day == summary.day
    assert days_in_the_database() == {name: +counter for name, counter in days_added_up_here().items()}


@pytest.mark.django_db
def test_a_rebuild_gives_the_same_rollups_as_the_refreshes() -> None:
    sample_activity_create(leads=20, seed=5)
    before = days_in_the_database()
    DemoDay.objects.all().delete()
    FeatureDay.objects.all().delete()

    rollups_rebuild()

    assert days_in_the_database() == before
