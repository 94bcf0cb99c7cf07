"""Writes to scoring rule sets: a new version to edit, and its preview or application to every lead.

A preview and an application are the same pass over the leads (``rescore_run``, in the worker): every
lead is scored again from its stored events under the rule set; a preview only counts what would change,
an application writes each batch of leads in its own short transaction, so the portal keeps answering
and a lead's own events keep scoring meanwhile (under the new version, which is active from the start).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from analytics.models import Lead, RescoreJob, Rule, RuleSet
from analytics.services.leads import (
    OPEN_STAGES,
    Scorer,
    account_domain_of,
    colleagues_by_domain,
    fact_rows,
    lead_apply,
    score,
)
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User

BATCH = 2000
PREVIEW_LEADS_LISTED = 200  # the preview lists this many changed leads, the biggest changes first


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


def rescore_run(*, job: RescoreJob) -> RescoreJob:
    """Score every lead again under the job's rule set, in batches, reporting progress on the job."""
    scorer = Scorer.of(job.rule_set)
    user_ids = list(scored_users().order_by("pk").values_list("pk", flat=True))
    RescoreJob.objects.filter(pk=job.pk).update(status=RescoreJob.Status.RUNNING, leads_total=len(user_ids))
    stages: Counter[str] = Counter()
    changes: list[dict[str, Any]] = []
    try:
        for start in range(0, len(user_ids), BATCH):
            batch = user_ids[start : start + BATCH]
            if job.mode == RescoreJob.Mode.APPLY:
                apply_batch(batch, scorer)
            else:
                preview_batch(batch, scorer, stages, changes)
            RescoreJob.objects.filter(pk=job.pk).update(leads_done=start + len(batch))
    except Exception as error:
        RescoreJob.objects.filter(pk=job.pk).update(
            status=RescoreJob.Status.FAILED, error=repr(error), finished_at=timezone.now()
        )
        raise
    summary: dict[str, Any] = {}
    if job.mode == RescoreJob.Mode.PREVIEW:
        changes.sort(key=lambda c: abs(c["new_total"] - c["old_total"]), reverse=True)
        summary = {
            "stage_changes": dict(stages),
            "leads_changed": len(changes),
            "leads": changes[:PREVIEW_LEADS_LISTED],
        }
    RescoreJob.objects.filter(pk=job.pk).update(
        status=RescoreJob.Status.DONE, summary=summary, finished_at=timezone.now(), leads_done=len(user_ids)
    )
    job.refresh_from_db()
    return job


def batch_rows(batch: list[int]) -> dict[int, list[tuple[Any, ...]]]:
    rows: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in fact_rows(batch).iterator(chunk_size=10000):
        rows[row[0]].append(row)
    return rows


def apply_batch(batch: list[int], scorer: Scorer) -> None:
    now = timezone.now()
    with transaction.atomic():
        users = {u.pk: u for u in scored_users().filter(pk__in=batch)}
        leads = {lead.user_id: lead for lead in Lead.objects.select_for_update().filter(user_id__in=batch)}
        rows = batch_rows(batch)
        colleagues = colleagues_by_domain(account_domain_of(user) for user in users.values())
        for user_id, user in users.items():
            lead = leads.get(user_id)
            if lead is None:
                if user_id not in rows:
                    continue  # never did anything: no lead yet
                lead = Lead.objects.create(user=user, account_domain=account_domain_of(user))
            scored = score(user=user, rows=rows.get(user_id, []), scorer=scorer, now=now)
            domain_colleagues = colleagues.get(lead.account_domain, [])
            lead_apply(lead=lead, scored=scored, scorer=scorer, now=now, colleagues=domain_colleagues)


def preview_batch(batch: list[int], scorer: Scorer, stages: Counter[str], changes: list[dict[str, Any]]) -> None:
    from analytics.selectors.leads import engagement_now  # reads the stored score as a reader would

    now = timezone.now()
    users = {u.pk: u for u in scored_users().filter(pk__in=batch)}
    leads = {lead.user_id: lead for lead in Lead.objects.filter(user_id__in=batch).select_related("rule_set")}
    rows = batch_rows(batch)
    for user_id, user in users.items():
        lead = leads.get(user_id)
        if lead is None and user_id not in rows:
            continue
        scored = score(user=user, rows=rows.get(user_id, []), scorer=scorer, now=now)
        new_engagement = scored.engagement_now(scorer, now)
        old_fit = lead.fit_score if lead else 0
        old_engagement = engagement_now(lead, now) if lead else 0.0
        old_stage = lead.stage if lead else Lead.Stage.LEAD
        new_stage = old_stage
        if old_stage in OPEN_STAGES:
            since = lead.stage_changed_at if lead and old_stage == Lead.Stage.RECYCLED else None
            if scored.qualifying_reason(scorer, now, since):
                new_stage = Lead.Stage.MQL
        old_total = round(old_fit + old_engagement)
        new_total = round(scored.fit_score + new_engagement)
        if new_stage != old_stage:
            stages[f"{old_stage}→{new_stage}"] += 1
        if new_total != old_total or new_stage != old_stage or (lead and lead.fit_grade != scored.fit_grade):
            changes.append(
                {
                    "lead": lead.pk if lead else None,
                    "email": user.email,
                    "old_total": old_total,
                    "new_total": new_total,
                    "old_grade": lead.fit_grade if lead else "",
                    "new_grade": scored.fit_grade,
                    "old_stage": old_stage,
                    "new_stage": new_stage,
                }
            )
