"""A rule set previewed and applied to every lead (analytics/services/rules.py): the preview writes nothing, the
application rescores from the events in batches and is the same as scoring each lead on its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from analytics.models import Event, Lead, LeadStageChange, RescoreJob, Rule, RuleSet, ScoreEntry
from analytics.services import rules
from analytics.services.leads import lead_refresh, lead_stage_set, rule_set_active
from analytics.services.rules import leads_rescore, rescore_run, rescore_start, rule_set_new_version, scored_users
from analytics.services.sample import sample_activity_create, sample_activity_remove, sample_users
from demoportal.core.models import User
from tests.conftest import wait_for

SEED, LEADS = (
    2,
    40,
)  # committees, free-mail people, partner users, hand-raisers (tests/analytics/test_sample_activity.py)
# What a rescore writes to a lead, but the times that say when it was written.
# The moments of a stage change are the clock's when it happens, on either path.
LEAD_FIELDS = [
    name for name in rules.LEAD_SCORED_FIELDS if name not in ("updated_at", "stage_changed_at", "mql_at", "sql_at")
]


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user(email="marketing@vendor.example", password="pw", is_staff=True)


@pytest.fixture
def scored(db: None) -> None:
    """Sample prospects scored under the first rule set."""
    sample_activity_create(leads=LEADS, seed=SEED)


def draft(**changes: Any) -> RuleSet:
    """A new version of the rules in use: demo_started worth 7 (was 5), no rule for acknowledged alarms, and
    ``changes`` to its parameters."""
    version = rule_set_new_version(source=rule_set_active(), actor=None)
    Rule.objects.filter(rule_set=version, signal="demo_started").update(points=7)
    Rule.objects.filter(rule_set=version, signal="alert_acknowledged").delete()
    RuleSet.objects.filter(pk=version.pk).update(**changes)
    version.refresh_from_db()
    return version


def ledger() -> list[tuple[Any, ...]]:
    """Every ledger row, by user rather than lead id (a lead made on one path has another id on the other)."""
    fields = ("lead__user_id", "rule_set_id", "kind", "signal", "group", "points", "event_id", "product")
    return sorted(ScoreEntry.objects.values_list(*fields, "occurred_at", "key", "explanation"))


def leads() -> list[tuple[Any, ...]]:
    return sorted(Lead.objects.values_list("user_id", *LEAD_FIELDS))


def stage_changes() -> list[tuple[Any, ...]]:
    return sorted(LeadStageChange.objects.values_list("lead__user_id", "before", "after", "actor_id", "reason"))


def everything() -> tuple[list[tuple[Any, ...]], ...]:
    return ledger(), leads(), stage_changes()


def test_a_preview_writes_nothing_and_reports_the_stage_changes_an_application_then_makes(
    scored: None, staff: User
) -> None:
    version = draft(mql_engagement=30)
    before = everything()

    job = rescore_run(job=rescore_start(rule_set=version, mode=RescoreJob.Mode.PREVIEW, actor=staff))

    assert everything() == before
    version.refresh_from_db()
    assert version.status == RuleSet.Status.DRAFT
    assert (job.status, job.leads_total, job.leads_done) == ("done", LEADS, LEADS)
    moves = job.summary["stage_changes"]
    assert set(moves) == {"lead→mql"}
    listed = job.summary["leads"]
    assert job.summary["leads_changed"] == len(listed) >= moves["lead→mql"] > 0
    assert [abs(c["new_total"] - c["old_total"]) for c in listed] == sorted(
        (abs(c["new_total"] - c["old_total"]) for c in listed), reverse=True
    )

    earlier = list(LeadStageChange.objects.values_list("pk", flat=True))
    rescore_run(job=rescore_start(rule_set=version, mode=RescoreJob.Mode.APPLY, actor=staff))

    made = LeadStageChange.objects.exclude(pk__in=earlier)
    assert made.count() == moves["lead→mql"]
    moved = {change["email"] for change in listed if change["new_stage"] != change["old_stage"]}
    assert set(made.values_list("lead__user__email", flat=True)) == moved


def test_an_application_rescores_every_lead_from_its_events_under_the_new_version(scored: None, staff: User) -> None:
    old = rule_set_active()
    old_rows = ScoreEntry.objects.filter(rule_set=old).count()
    newcomer = User.objects.create_user(email="new@plant.example", password="pw", contact_consent_at=timezone.now())
    Event.objects.create(name="demo_started", user=newcomer, occurred_at=timezone.now(), source="server")
    idle = User.objects.create_user(email="idle@plant.example", password="pw", contact_consent_at=timezone.now())
    unconsenting = User.objects.create_user(email="no@plant.example", password="pw")
    Event.objects.create(name="demo_started", user=unconsenting, occurred_at=timezone.now(), source="server")
    version = draft()

    job = rescore_run(job=rescore_start(rule_set=version, mode=RescoreJob.Mode.APPLY, actor=staff))

    assert (job.status, job.leads_total, job.leads_done) == ("done", LEADS + 2, LEADS + 2)
    assert old_rows > 0
    assert not ScoreEntry.objects.filter(rule_set=old).exists()
    assert set(Lead.objects.values_list("rule_set", flat=True)) == {version.pk}
    assert set(ScoreEntry.objects.filter(signal="demo_started").values_list("points", flat=True)) == {7}
    assert not ScoreEntry.objects.filter(signal="alert_acknowledged").exists()
    assert Event.objects.filter(name="alert_acknowledged", user__in=sample_users()).exists()
    assert Lead.objects.get(user=newcomer).engagement_points == 7
    assert not Lead.objects.filter(user__in=[idle, unconsenting]).exists()
    # Each lead's engagement is what its events earn now: the demo starts are worth 2 more each.
    for lead in Lead.objects.filter(user__in=sample_users()):
        starts = ScoreEntry.objects.filter(lead=lead, signal="demo_started").count()
        assert starts >= 1
        assert lead.engagement_points == sum(
            ScoreEntry.objects.filter(lead=lead, kind="engagement").values_list("points", flat=True)
        )


def test_an_application_is_the_same_as_scoring_each_lead_on_its_own(
    scored: None, staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both paths from the same ledger, at the same moment: the ledger, the leads and the stage audit agree."""
    users = list(scored_users().order_by("pk"))
    hand_raiser = Lead.objects.filter(user__in=users, stage="mql", stage_reason__startswith="Hand-raise").first()
    assert hand_raiser is not None
    lead_stage_set(lead=hand_raiser, action="recycle", actor=staff, reason="No budget this year")
    disqualified = Lead.objects.filter(user__in=users, stage="lead").first()
    assert disqualified is not None
    lead_stage_set(lead=disqualified, action="disqualify", actor=staff, reason="A student")
    newcomer = User.objects.create_user(email="new@plant.example", password="pw", contact_consent_at=timezone.now())
    Event.objects.create(name="pricing_requested", user=newcomer, occurred_at=timezone.now(), source="server")
    rescore_start(rule_set=draft(mql_engagement=30), mode=RescoreJob.Mode.APPLY, actor=staff)  # now in use
    now = timezone.now()
    users = list(scored_users().order_by("pk"))

    with transaction.atomic():
        for user in users:
            lead_refresh(user=user, now=now)
        one_by_one = everything()
        transaction.set_rollback(True)
    monkeypatch.setattr(rules, "BATCH", 7)  # several batches, committees split between them
    written = leads_rescore(user_ids=[user.pk for user in users], now=now)
    in_batches = everything()

    assert written == LEADS + 1
    assert in_batches == one_by_one
    _, lead_rows, changes = in_batches
    assert any("their " in row[-1] for row in lead_rows)  # a colleague's doing in the recommended action
    assert any(row[-1].startswith("Engagement") for row in changes)  # qualified by the new grid
    assert any(row[0] == newcomer.pk and row[2] == "mql" for row in changes)
    assert Lead.objects.get(pk=hand_raiser.pk).stage == "recycled"
    assert Lead.objects.get(pk=disqualified.pk).stage == "disqualified"


def test_an_application_records_who_applied_it(scored: None, staff: User) -> None:
    old = rule_set_active()
    version = draft()

    job = rescore_start(rule_set=version, mode=RescoreJob.Mode.APPLY, actor=staff)

    version.refresh_from_db()
    old.refresh_from_db()
    assert (version.status, version.applied_by, old.status) == ("active", staff, "retired")
    assert version.applied_at is not None
    assert (job.requested_by, job.status) == (staff, "queued")
    job = rescore_run(job=job)
    assert job.status == "done"
    assert job.finished_at is not None


def test_an_application_tells_sales_nothing(scored: None, staff: User, django_capture_on_commit_callbacks: Any) -> None:
    sales = User.objects.create_user(email="ae@vendor.example", password="pw", is_staff=True)
    sales.groups.add(Group.objects.get_or_create(name="Sales")[0])
    job = rescore_start(rule_set=draft(mql_engagement=20), mode=RescoreJob.Mode.APPLY, actor=staff)
    mqls = Lead.objects.filter(stage="mql").count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rescore_run(job=job)

    assert Lead.objects.filter(stage="mql").count() > mqls
    assert callbacks == []
    assert mail.outbox == []


def test_a_failing_batch_marks_the_job_failed_with_the_error_and_keeps_the_batches_before(
    scored: None, staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = draft()
    # A rule in a group the scoring does not know: the first lead who earns it fails its batch.
    Rule.objects.filter(rule_set=version, signal="demo_completed").update(group="bogus")
    users = list(scored_users().order_by("pk").values_list("pk", flat=True))
    completed = set(Event.objects.filter(name="demo_completed").values_list("user_id", flat=True))
    first = next(index for index, pk in enumerate(users) if pk in completed)
    assert first > 0
    monkeypatch.setattr(rules, "BATCH", first)  # the first batch earns no completed tour
    job = rescore_start(rule_set=version, mode=RescoreJob.Mode.APPLY, actor=staff)

    with pytest.raises(KeyError, match="bogus"):
        rescore_run(job=job)

    job.refresh_from_db()
    assert job.status == "failed"
    assert "bogus" in job.error
    assert job.finished_at is not None
    assert job.leads_done == first
    on_new = set(Lead.objects.filter(rule_set=version).values_list("user_id", flat=True))
    assert on_new == set(users[:first])


@pytest.fixture
def committed_sample(committed_db: None) -> Iterator[list[int]]:
    """Sample prospects committed, so that the rescore's batches run on connections of their own."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        name = cursor.fetchone()[0]
    # committed_db alone, as the first test of a run, was seen on the configured database: never write there.
    assert name.startswith("test_"), f"refusing to write sample data to {name}, not a test database"
    first = rule_set_active()
    earlier = list(RuleSet.objects.values_list("pk", flat=True))
    sample_activity_create(leads=12, seed=SEED)
    try:
        yield list(sample_users().order_by("pk").values_list("pk", flat=True))
    finally:
        sample_activity_remove()
        RuleSet.objects.exclude(pk__in=earlier).delete()
        RuleSet.objects.filter(pk=first.pk).update(status=RuleSet.Status.ACTIVE)


def test_outside_a_transaction_the_batches_run_two_at_a_time_each_committed(
    committed_sample: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rules, "BATCH", 3)
    version = draft()
    # Made by hand: rescore_start would also queue the job for a worker once committed.
    RuleSet.objects.filter(status=RuleSet.Status.ACTIVE).update(status=RuleSet.Status.RETIRED)
    RuleSet.objects.filter(pk=version.pk).update(status=RuleSet.Status.ACTIVE)
    job = RescoreJob.objects.create(rule_set=version, mode=RescoreJob.Mode.APPLY)

    job = rescore_run(job=job)

    assert (job.status, job.leads_done) == ("done", len(committed_sample))
    assert set(Lead.objects.filter(user__in=committed_sample).values_list("rule_set", flat=True)) == {version.pk}
    assert set(ScoreEntry.objects.filter(signal="demo_started").values_list("points", flat=True)) == {7}


def test_the_worker_runs_a_queued_application_to_the_end(
    committed_sample: list[int], celery_worker_process: str
) -> None:
    """The whole path: rescore_start queues the job once committed, and a real prefork worker runs it (its
    batches on threads of their own: a worker's process may not fork children)."""
    version = draft()

    job = rescore_start(rule_set=version, mode=RescoreJob.Mode.APPLY, actor=None)

    def finished() -> RescoreJob | None:
        job.refresh_from_db()
        return job if job.status in (RescoreJob.Status.DONE, RescoreJob.Status.FAILED) else None

    wait_for(finished, "the rescore job", timeout=120)
    assert (job.status, job.error, job.leads_done) == ("done", "", len(committed_sample))
    assert set(Lead.objects.filter(user__in=committed_sample).values_list("rule_set", flat=True)) == {version.pk}
