"""Writes to scoring rule sets: a new version to edit, and its preview or application to every lead.

A preview and an application are the same pass over the leads (``rescore_run``, in the worker): every
lead is scored again from its stored events under the rule set, ``BATCH`` leads at a time; a preview
only counts what would change, an application writes each batch in its own short transaction, so the
portal keeps answering and a lead's own events keep scoring meanwhile (under the new version, which is
active from the start).

A batch costs the same few statements however many leads it holds: its users, their leads (locked),
their events and the ledger rows it keeps are one query each; the scoring is plain Python, through the
functions that score a single lead (``score`` and ``lead_fields_set``), so the two paths cannot drift;
then one DELETE of the ledger rows that are gone, one COPY of the new ones, one UPDATE of the leads from a
copied table and one INSERT of the stage changes. The ledger is kept as ``lead_apply`` keeps it: a row of
this version whose key is still earned stays as it is, the others go.

A rescore tells sales nothing. A rule change can qualify thousands of leads at once, none of whom did
anything new: e-mailing sales about each (and extending their sandboxes, as a new MQL's notification
does) would bury the hand-raises that matter. The leads it qualifies are in the stage audit
(``LeadStageChange`` by no one, "Engagement … with fit …") and in the MQL list; what a prospect does
next is told as always, by ``lead_refresh``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from psycopg import sql

from analytics.models import Event, Lead, LeadStageChange, RescoreJob, Rule, RuleSet, ScoreEntry
from analytics.services.bulk import copy_rows, execute, objects_update, values_rows
from analytics.services.leads import (
    Scored,
    Scorer,
    account_domain_of,
    colleagues_by_domain,
    fact_rows,
    lead_fields_set,
    rule_set_active,
    score,
)
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User

BATCH = 2000
WORKERS = 2  # batches under way at once
PREVIEW_LEADS_LISTED = 200  # the preview lists this many changed leads, the biggest changes first
# What a batch writes to each lead: what ``lead_fields_set`` sets, the account and the time.
LEAD_SCORED_FIELDS = (
    "account_domain",
    "rule_set",
    "fit_score",
    "fit_grade",
    "intent_weight",
    "activity_weight",
    "decay_anchor",
    "engagement_points",
    "last_activity_at",
    "products",
    "industries",
    "stage",
    "stage_changed_at",
    "stage_reason",
    "mql_at",
    "sql_at",
    "source",
    "recommended_action",
    "updated_at",
)
# What scoring reads of a user (``profile_of``, ``account_domain_of``, ``score``) and of a lead (``lead_fields_set``).
PROFILE_FIELDS = ("email", "role", "personal_email", "company_size", "country", "date_joined", "partner__name")
LEAD_READ_FIELDS = ("user_id", "account_domain", "stage", "stage_changed_at", "stage_reason", "mql_at", "sql_at")
LEDGER_COLUMNS = (
    "lead_id",
    "rule_set_id",
    "kind",
    "signal",
    "group",
    "points",
    "event_id",
    "product",
    "occurred_at",
    "key",
    "explanation",
)


def rule_set_new_version(*, source: RuleSet, actor: User | None) -> RuleSet:
    """A draft copy of ``source`` (its parameters and rules) to edit, numbered after the latest version."""
    with transaction.atomic():
        latest = RuleSet.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0
        fields = {
            f.name: getattr(source, f.name)
            for f in RuleSet._meta.concrete_fields
            if f.name not in ("id", "version", "status", "note", "created_at", "created_by", "applied_at", "applied_by")
        }
        draft = RuleSet.objects.create(version=latest + 1, created_by=actor, note=f"From v{source.version}", **fields)
        Rule.objects.bulk_create(
            Rule(
                rule_set=draft,
                kind=r.kind,
                signal=r.signal,
                points=r.points,
                max_per_demo=r.max_per_demo,
                group=r.group,
                hand_raise=r.hand_raise,
            )
            for r in source.rules.all()
        )
    return draft


def rescore_start(*, rule_set: RuleSet, mode: str, actor: User | None) -> RescoreJob:
    """Queue a preview or an application of the draft ``rule_set``; the worker runs it (``rescore_run``).
    Applying makes the draft the active version at once, and records who applied it."""
    if rule_set.status != RuleSet.Status.DRAFT:
        raise DomainError(
            f"Version {rule_set.version} is {rule_set.get_status_display()}: make a new version to change the rules.",
            errors={"rule_set": ["Only a draft can be previewed or applied."]},
            status_code=409,
        )
    if mode not in RescoreJob.Mode.values:
        raise DomainError(f"Unknown mode {mode!r}.", errors={"mode": ["preview or apply"]})
    with transaction.atomic():
        if mode == RescoreJob.Mode.APPLY:
            RuleSet.objects.filter(status=RuleSet.Status.ACTIVE).update(status=RuleSet.Status.RETIRED)
            rule_set.status, rule_set.applied_at, rule_set.applied_by = RuleSet.Status.ACTIVE, timezone.now(), actor
            rule_set.save(update_fields=["status", "applied_at", "applied_by"])
        job = RescoreJob.objects.create(rule_set=rule_set, mode=mode, requested_by=actor)
        job_id = job.pk
        transaction.on_commit(lambda: rescore_later(job_id=job_id))
    return job


def rescore_later(*, job_id: int) -> None:
    from analytics.tasks import rescore  # the tasks module imports this one

    rescore.delay(job_id=job_id)


def scored_users() -> Any:
    """Everyone who is or would be a lead: consenting, not staff."""
    return User.objects.filter(contact_consent_at__isnull=False, is_staff=False).select_related("partner")


def batches(user_ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(user_ids), BATCH):
        yield list(user_ids[start : start + BATCH])


def batches_run(
    user_ids: Sequence[int], mode: str, scorer: Scorer, now: datetime | None, done: Callable[[list[int], Any], None]
) -> None:
    """Apply or preview (``mode``) ``scorer`` for each batch of ``user_ids``, ``WORKERS`` batches at once on
    connections of their own: while one batch's statements run in the database, the other is scored in Python.
    (Not processes, which would score on both cores: a Celery worker's process may not have children.)
    ``done`` is told of each batch and what it returned, in this thread. The first failure stops it: batches
    under way finish, no new one starts, and the error is raised. Inside a caller's transaction (a test's) the
    batches run in it, one after the other."""
    if connection.in_atomic_block or WORKERS == 1:
        for batch in batches(user_ids):
            done(batch, batch_run(mode, scorer, batch, now))
        return
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        running: dict[Future[Any], list[int]] = {}
        for batch in batches(user_ids):
            if len(running) == WORKERS:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    done(running.pop(future), future.result())
            running[pool.submit(batch_run, mode, scorer, batch, now, close=True)] = batch
        for future in as_completed(running):
            done(running[future], future.result())


def batch_run(mode: str, scorer: Scorer, batch: list[int], now: datetime | None, *, close: bool = False) -> Any:
    """One batch of a rescore: the count of leads an application wrote, or what a preview found."""
    try:
        return preview_batch(batch, scorer, now) if mode == RescoreJob.Mode.PREVIEW else apply_batch(batch, scorer, now)
    finally:
        if close:
            connection.close()  # a worker thread's, at the end of its batch


@dataclass
class PreviewTally:
    """What a preview found: stage moves by kind, and the leads whose score, grade or stage change."""

    stages: Counter[str] = field(default_factory=Counter)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: PreviewTally) -> None:
        self.stages.update(other.stages)
        self.changes += other.changes

    def summary(self) -> dict[str, Any]:
        listed = sorted(self.changes, key=lambda c: abs(c["new_total"] - c["old_total"]), reverse=True)
        return {
            "stage_changes": dict(self.stages),
            "leads_changed": len(self.changes),
            "leads": listed[:PREVIEW_LEADS_LISTED],
        }


def rescore_run(*, job: RescoreJob) -> RescoreJob:
    """Score every lead again under the job's rule set, in batches, reporting progress on the job. A batch
    that fails marks the job failed with the error (and raises it); the batches done before it stay applied."""
    scorer = Scorer.of(job.rule_set)
    user_ids = list(scored_users().order_by("pk").values_list("pk", flat=True))
    RescoreJob.objects.filter(pk=job.pk).update(status=RescoreJob.Status.RUNNING, leads_total=len(user_ids))
    preview = job.mode == RescoreJob.Mode.PREVIEW
    tally = PreviewTally()
    progress = 0

    def done(batch: list[int], found: PreviewTally | int) -> None:
        nonlocal progress
        progress += len(batch)
        if isinstance(found, PreviewTally):
            tally.add(found)
        RescoreJob.objects.filter(pk=job.pk).update(leads_done=progress)

    try:
        batches_run(user_ids, job.mode, scorer, None, done)
    except Exception as error:
        RescoreJob.objects.filter(pk=job.pk).update(
            status=RescoreJob.Status.FAILED, error=repr(error), finished_at=timezone.now()
        )
        raise
    RescoreJob.objects.filter(pk=job.pk).update(
        status=RescoreJob.Status.DONE,
        summary=tally.summary() if preview else {},
        finished_at=timezone.now(),
        leads_done=len(user_ids),
    )
    job.refresh_from_db()
    return job


def leads_rescore(*, user_ids: Sequence[int], rule_set: RuleSet | None = None, now: datetime | None = None) -> int:
    """Score these users' leads under ``rule_set`` (default: the one in use) as an application does, in
    batches, each in its own transaction; no job is recorded and sales are told nothing. Returns how many
    leads were written (a user who never did anything gets none)."""
    scorer = Scorer.of(rule_set or rule_set_active())
    written: list[int] = []
    batches_run(user_ids, RescoreJob.Mode.APPLY, scorer, now, lambda _, count: written.append(count))
    return sum(written)


def batch_users(batch: Sequence[int]) -> dict[int, User]:
    """The batch's users, with what scoring reads of them (a field it reads besides is loaded when read)."""
    users = scored_users().filter(pk__in=batch).only(*PROFILE_FIELDS)
    return {user.pk: user for user in users}


def batch_rows(user_ids: Sequence[int]) -> dict[int, list[tuple[Any, ...]]]:
    rows: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in values_rows(fact_rows(user_ids)):
        rows[row[0]].append(row)
    return rows


def leads_locked(user_ids: Iterable[int]) -> dict[int, Lead]:
    """The leads of these users by user id, locked, with what ``lead_fields_set`` reads of them."""
    leads = Lead.objects.select_for_update().filter(user_id__in=list(user_ids)).only(*LEAD_READ_FIELDS)
    return {lead.user_id: lead for lead in leads}


def apply_batch(batch: Sequence[int], scorer: Scorer, now: datetime | None = None) -> int:
    """Score the leads of ``batch`` (user ids) under ``scorer`` and write them, in one transaction: the same
    outcome as ``lead_apply`` for each, in a fixed number of statements. A user with events and no lead
    gets one. Returns how many leads were written.

    The leads are locked before their events are read, as ``lead_refresh`` does: an event recorded meanwhile
    is either read here or scored by its own request once this batch commits, never lost under it."""
    now = now or timezone.now()
    with transaction.atomic():
        # Short statements, repeated per batch: compiling them costs more than it saves. A batch's commit does not
        # wait for the disk: a crash loses at most the last moment's batches, and the job's own commits (progress,
        # done) wait, so a job marked done has every batch on disk.
        execute(sql.SQL("SET LOCAL jit TO off; SET LOCAL synchronous_commit TO off"))
        users = batch_users(batch)
        leads = leads_locked(users)
        without = [pk for pk in users if pk not in leads]
        if without:
            active = set(Event.objects.filter(user_id__in=without).values_list("user_id", flat=True).distinct())
            Lead.objects.bulk_create(
                [Lead(user=users[pk], account_domain=account_domain_of(users[pk])) for pk in active],
                ignore_conflicts=True,  # one made meanwhile by the user's own event is locked like the rest
            )
            leads.update(leads_locked(active))
        rows = batch_rows(list(leads))
        scored = []
        for lead in sorted(leads.values(), key=lambda lead: lead.pk):
            user = users[lead.user_id]
            lead.account_domain = account_domain_of(user)
            scored.append((lead, score(user=user, rows=rows.get(user.pk, []), scorer=scorer, now=now)))
        ledger_write(scored, scorer.rule_set)
        colleagues = colleagues_by_domain(
            (lead.account_domain for lead, _ in scored),
            besides=[(lead.pk, lead.account_domain, users[lead.user_id].role, s.contributions) for lead, s in scored],
        )
        changes = []
        for lead, result in scored:
            change = lead_fields_set(
                lead=lead, scored=result, scorer=scorer, now=now, colleagues=colleagues.get(lead.account_domain, [])
            )
            if change is not None:
                changes.append(change)
            lead.updated_at = now
        objects_update(Lead, [lead for lead, _ in scored], LEAD_SCORED_FIELDS)
        LeadStageChange.objects.bulk_create(changes)
    return len(scored)


def ledger_write(scored: Sequence[tuple[Lead, Scored]], rule_set: RuleSet) -> None:
    """Make the ledger of these (locked) leads what they now earn under ``rule_set``: rows of other versions
    and of keys no longer earned go in one DELETE, the new ones come in one COPY; a row still earned stays."""
    wanted = {(lead.pk, c.key): (lead, c) for lead, result in scored for c in result.contributions}
    lead_ids = [lead.pk for lead, _ in scored]
    kept: set[tuple[int, str]] = set()
    stale: list[int] = []
    for lead_id, key, pk in ScoreEntry.objects.filter(lead_id__in=lead_ids, rule_set=rule_set).values_list(
        "lead_id", "key", "pk"
    ):
        if (lead_id, key) in wanted:
            kept.add((lead_id, key))
        else:
            stale.append(pk)
    execute(
        sql.SQL("DELETE FROM {} WHERE lead_id = ANY(%s) AND (rule_set_id <> %s OR id = ANY(%s))").format(
            sql.Identifier(ScoreEntry._meta.db_table)
        ),
        [lead_ids, rule_set.pk, stale],
    )
    copy_rows(
        ScoreEntry._meta.db_table,
        LEDGER_COLUMNS,
        (
            (
                lead.pk,
                rule_set.pk,
                c.kind,
                c.signal,
                c.group,
                c.points,
                c.event_id,
                c.product,
                c.at,
                c.key,
                c.explanation[:300],
            )
            for lead_key, (lead, c) in wanted.items()
            if lead_key not in kept
        ),
    )


def preview_batch(batch: Sequence[int], scorer: Scorer, now: datetime | None = None) -> PreviewTally:
    """What applying ``scorer`` would change for the leads of ``batch`` (user ids); writes nothing."""
    from analytics.selectors.leads import engagement_now  # reads the stored score as a reader would

    now = now or timezone.now()
    tally = PreviewTally()
    users = batch_users(batch)
    leads = {lead.user_id: lead for lead in Lead.objects.filter(user_id__in=batch).select_related("rule_set")}
    rows = batch_rows(batch)
    for user_id, user in users.items():
        lead = leads.get(user_id)
        if lead is None and user_id not in rows:
            continue
        if lead is None:
            lead, old_total, old_grade = Lead(user=user, account_domain=account_domain_of(user)), 0, ""
        else:
            old_total, old_grade = round(lead.fit_score + engagement_now(lead, now)), lead.fit_grade
        old_stage = lead.stage
        scored = score(user=user, rows=rows.get(user_id, []), scorer=scorer, now=now)
        lead_fields_set(lead=lead, scored=scored, scorer=scorer, now=now)  # in memory: never saved
        new_total = round(scored.fit_score + scored.engagement_now(scorer, now))
        if lead.stage != old_stage:
            tally.stages[f"{old_stage}→{lead.stage}"] += 1
        if new_total != old_total or lead.stage != old_stage or (old_grade and old_grade != lead.fit_grade):
            tally.changes.append(
                {
                    "lead": lead.pk,
                    "email": user.email,
                    "old_total": old_total,
                    "new_total": new_total,
                    "old_grade": old_grade,
                    "new_grade": lead.fit_grade,
                    "old_stage": old_stage,
                    "new_stage": lead.stage,
                }
            )
    return tally
