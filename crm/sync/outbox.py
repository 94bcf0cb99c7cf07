"""The CRM outbox: sync rows written with the event that triggers them, delivered by the worker, swept by beat.

1. **Trigger** (``sync_request``, in the caller's transaction): for each CRM, the lead's waiting row gets the
   trigger, or a new row is written. Once committed, a delivery is queued for each configured CRM.
2. **Delivery** (``syncs_deliver``, the worker): claims up to a client's batch of due rows — never a lead that
   another worker is delivering — builds each lead's record as it is now, and delivers the batch in a few
   calls. Each row ends delivered, failed (due again after an exponential backoff with jitter, or when the CRM
   said) or dead (after ``CRM_SYNC_MAX_ATTEMPTS`` attempts over ``CRM_SYNC_DEAD_AFTER_HOURS``, or a refusal
   that retrying cannot fix). Only a person retries a dead row (``sync_retry``).
3. **Sweep** (``syncs_sweep``, beat): takes back rows whose worker died mid-delivery (their claim ran out) and
   queues a delivery for every CRM with rows due — so a lost task, a Redis restart or a CRM configured late
   loses nothing.

A CRM that is not configured keeps its rows pending ("waiting for configuration"); they are delivered once it
is. Deliveries are idempotent (``crm/sync/records.py``), so a row delivered twice — a worker killed after the
CRM answered — updates what the first delivery made.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from analytics.models import Lead
from crm.models import Crm, CrmRecord, CrmStatus, CrmSync
from crm.sync.clients import client_for
from crm.sync.lead_records import lead_records
from crm.sync.records import (
    CrmClient,
    CrmRefusedError,
    CrmUnavailableError,
    Delivered,
    RecordError,
    Target,
)
from demoportal.core.exceptions import DomainError
from demoportal.core.health import redis_client
from demoportal.core.models import User

logger = logging.getLogger(__name__)

# What sets off a sync: these events, and a lead becoming an MQL or raising a hand (``triggers_of``).
TRIGGER_EVENTS = frozenset({"demo_completed", "pricing_requested", "sales_contact_requested"})
BACKOFF_FIRST = 30.0  # seconds, doubled per attempt …
BACKOFF_MAX = 3600.0  # … up to an hour, each ±20 % (jitter)
BATCHES_PER_TASK = 10  # then the task queues itself again, so one CRM's backlog never holds a worker for long
State = CrmSync.State


def triggers_of(*, event_name: str | None, told: Sequence[str]) -> list[str]:
    """The triggers in one scoring of a lead: the event if it is one of ``TRIGGER_EVENTS``; "became_mql" or
    "hand_raise" when Sales are told of it (``analytics.services.leads.lead_apply``)."""
    found = [event_name] if event_name in TRIGGER_EVENTS else []
    if any(reason.startswith("New MQL") for reason in told):
        found.append("became_mql")
    elif told:
        found.append("hand_raise")
    return found


def sync_request(*, lead: Lead, triggers: Sequence[str], now: datetime | None = None) -> list[CrmSync]:
    """Ask for ``lead`` to be delivered to every CRM, in the caller's transaction: each CRM's waiting row of
    the lead gets ``triggers`` (it is delivered once, with the lead as it is then), or a row is written. A
    failed row keeps its backoff: a new trigger does not hammer a CRM that is down."""
    now = now or timezone.now()
    stamped = [{"name": name, "at": now.isoformat()} for name in triggers]
    rows = []
    with transaction.atomic():
        Lead.objects.select_for_update().filter(pk=lead.pk).exists()  # one trigger of a lead at a time
        waiting = {row.crm: row for row in CrmSync.objects.filter(lead=lead, state__in=CrmSync.WAITING)}
        for crm in Crm.values:
            row = waiting.get(crm)
            if row is None:
                row = CrmSync.objects.create(lead=lead, crm=crm, triggers=stamped, due_at=now)
            else:
                row.triggers = row.triggers + stamped
                row.save(update_fields=["triggers"])
            rows.append(row)
        transaction.on_commit(deliver_later)
    return rows


QUEUED_KEY = "crm:delivery-queued:{crm}"  # (cache Redis) a delivery task of this CRM is queued, not yet started
QUEUED_FOR = 60  # seconds: a flag whose task was lost stops holding others back after this


def deliver_later(crms: Sequence[str] | None = None, *, always: bool = False) -> None:
    """Queue a delivery for each configured CRM (of ``crms``, default all) — unless one is already queued and
    has not started (a burst of 5,000 triggers queues a handful of tasks, not 10,000): a task clears its flag
    before it claims rows, so a row committed after that queues another. ``always``: queue regardless (the sweep,
    a task handing on its backlog)."""
    from crm.tasks import syncs_deliver_task  # the tasks module imports this one

    # Sent from the public schema: a task carries the schema it was sent from (tenant-schemas-celery), and a
    # trigger may come from a sandbox's host whose schema is gone by the time the task runs.
    with schema_context(get_public_schema_name()):
        for crm in crms or Crm.values:
            if client_for(crm) is not None and (always or delivery_flag_set(crm)):
                syncs_deliver_task.delay(crm=crm)


def delivery_flag_set(crm: str) -> bool:
    """Set the "queued" flag of ``crm``; False when it was set already. Redis failing: True (queue anyway)."""
    try:
        return bool(redis_client().set(QUEUED_KEY.format(crm=crm), 1, nx=True, ex=QUEUED_FOR))
    except redis.RedisError:
        return True


def delivery_flag_clear(crm: str) -> None:
    with contextlib.suppress(redis.RedisError):  # it expires by itself
        redis_client().delete(QUEUED_KEY.format(crm=crm))


def lease() -> timedelta:
    """How long a worker may take over one batch before the sweep takes its rows back: its calls' timeouts."""
    return timedelta(seconds=settings.CRM_SYNC_TIMEOUT * 6 + 30)


CLAIM = """
UPDATE crm_crmsync SET state = 'delivering', claimed_until = %(until)s, attempts = attempts + 1,
       last_attempt_at = %(now)s
WHERE id IN (
    SELECT s.id FROM crm_crmsync s
    WHERE s.crm = %(crm)s AND s.state IN ('pending', 'failed') AND s.due_at <= %(now)s
      AND NOT EXISTS (
          SELECT 1 FROM crm_crmsync d WHERE d.lead_id = s.lead_id AND d.crm = s.crm AND d.state = 'delivering'
      )
    ORDER BY s.due_at, s.id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


def syncs_claim(*, crm: str, limit: int, now: datetime) -> list[int]:
    """Take up to ``limit`` due rows of ``crm`` for this worker, oldest first; a lead being delivered by another
    worker waits for it (deliveries of one lead are serialised)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CLAIM, {"crm": crm, "now": now, "until": now + lease(), "limit": limit})
        return [row[0] for row in cursor.fetchall()]


def syncs_deliver(*, crm: str, now: datetime | None = None) -> int:
    """Deliver ``crm``'s due rows, a batch at a time (``BATCHES_PER_TASK`` at most, then queue another task
    for the rest). Returns how many were delivered. Nothing happens while ``crm`` is not configured."""
    client = client_for(crm)
    if client is None:
        return 0
    delivery_flag_clear(crm)  # rows committed from now on queue another task
    delivered = 0
    for _ in range(BATCHES_PER_TASK):
        moment = now or timezone.now()
        claimed = syncs_claim(crm=crm, limit=client.batch_size, now=moment)
        if not claimed:
            return delivered
        delivered += batch_deliver(client, claimed, moment)
        if len(claimed) < client.batch_size:
            return delivered
    deliver_later([crm], always=True)
    return delivered


def batch_deliver(client: CrmClient, sync_ids: Sequence[int], now: datetime) -> int:
    """Deliver the claimed rows ``sync_ids`` in one call of ``client`` and record what became of each."""
    syncs = list(CrmSync.objects.filter(pk__in=sync_ids))
    records = lead_records([s.lead_id for s in syncs], now)
    known = {r.lead_id: r for r in CrmRecord.objects.filter(crm=client.name, lead_id__in=[s.lead_id for s in syncs])}
    targets = []
    for sync in syncs:
        record = records.get(sync.lead_id)
        if record is None:
            continue  # the lead went (its prospect erased) between the claim and now: its row went with it
        link = known.get(sync.lead_id)
        targets.append(Target(record, link.record_id if link else "", dict(link.activity_ids) if link else {}))
    started = time.monotonic()
    try:
        results: dict[str, Delivered | RecordError] = client.deliver(targets) if targets else {}
    except CrmUnavailableError as error:
        return batch_failed(client, syncs, now, str(error), retry_after=error.retry_after, started=started)
    except CrmRefusedError as error:
        return batch_failed(client, syncs, now, f"Refused: {error}", retry_after=None, started=started)
    except Exception as error:  # a bug of ours or the library's: the rows wait, the error is shown and raised
        batch_failed(client, syncs, now, f"{type(error).__name__}: {error}", retry_after=None, started=started)
        raise
    took = round((time.monotonic() - started) * 1000)
    delivered = 0
    for sync in syncs:
        record = records.get(sync.lead_id)
        result = results.get(record.key) if record else None
        if isinstance(result, Delivered):
            delivered += sync_delivered(client.name, sync, result, now, took)
        elif isinstance(result, RecordError):
            sync_failed(sync, now, result.message, retry_after=None, dead=not result.retryable, took=took)
        else:
            sync_failed(sync, now, "The CRM's answer did not mention this lead.", retry_after=None, took=took)
    status_record(client, now, error="")
    return delivered


def sync_delivered(crm: str, sync: CrmSync, result: Delivered, now: datetime, took: int) -> int:
    with transaction.atomic():
        CrmRecord.objects.update_or_create(
            lead_id=sync.lead_id,
            crm=crm,
            defaults={
                "record_id": result.record_id,
                "record_url": result.record_url,
                "activity_ids": dict(result.activity_ids),
                "synced_at": now,
            },
        )
        CrmSync.objects.filter(pk=sync.pk).update(
            state=State.DELIVERED,
            delivered_at=timezone.now(),
            claimed_until=None,
            duration_ms=took,
            record_id=result.record_id,
            record_url=result.record_url,
            note=result.note[:300],
            last_error="",
        )
    return 1


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds until the next attempt: what the CRM asked for, else 30 s doubled per attempt up to an hour;
    ±20 % either way, so rows that failed together do not return together."""
    wait = retry_after if retry_after is not None else min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)
    return wait * random.uniform(0.8, 1.2)  # noqa: S311  # jitter, not a secret


def sync_failed(
    sync: CrmSync, now: datetime, error: str, *, retry_after: float | None, dead: bool = False, took: int | None = None
) -> None:
    """Record a failed attempt: due again after ``backoff``, or dead — when retrying cannot help (``dead``) or
    after ``CRM_SYNC_MAX_ATTEMPTS`` attempts over ``CRM_SYNC_DEAD_AFTER_HOURS``. A row that cannot wait
    because the lead has a newer waiting row hands its triggers to it (superseded)."""
    sync.refresh_from_db()
    old_enough = now - sync.created_at >= timedelta(hours=settings.CRM_SYNC_DEAD_AFTER_HOURS)
    dead = dead or (sync.attempts >= settings.CRM_SYNC_MAX_ATTEMPTS and old_enough)
    with transaction.atomic():
        newer = (
            CrmSync.objects.select_for_update()
            .filter(lead_id=sync.lead_id, crm=sync.crm, state__in=CrmSync.WAITING)
            .exclude(pk=sync.pk)
            .first()
        )
        state = State.DEAD if dead else State.FAILED
        if newer is not None and not dead:
            newer.triggers = sync.triggers + newer.triggers
            newer.save(update_fields=["triggers"])
            state = State.SUPERSEDED
        CrmSync.objects.filter(pk=sync.pk).update(
            state=state,
            last_error=error[:2000],
            claimed_until=None,
            due_at=now + timedelta(seconds=backoff(sync.attempts, retry_after)),
            duration_ms=took,
        )


def batch_failed(
    client: CrmClient, syncs: Sequence[CrmSync], now: datetime, error: str, *, retry_after: float | None, started: float
) -> int:
    took = round((time.monotonic() - started) * 1000)
    logger.warning("%s sync of %d leads failed: %s", client.name, len(syncs), error)
    for sync in syncs:
        sync_failed(sync, now, error, retry_after=retry_after, took=took)
    status_record(client, now, error=error)
    return 0


def status_record(client: CrmClient, now: datetime, *, error: str) -> None:
    usage = client.api_usage()
    fields: dict[str, Any] = {"api_used": usage.used, "api_limit": usage.limit} if usage else {}
    if error:
        fields |= {"last_error_at": now, "last_error": error[:2000]}
    else:
        fields |= {"last_success_at": now}
    CrmStatus.objects.update_or_create(crm=client.name, defaults=fields)


def syncs_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: take back rows whose worker stopped mid-delivery (their claim ran out: due now, or handed to the
    lead's newer waiting row), then queue a delivery for each configured CRM with rows due. Returns the rows
    taken back and the CRMs queued."""
    now = now or timezone.now()
    stale = list(CrmSync.objects.filter(state=State.DELIVERING, claimed_until__lt=now))
    for sync in stale:
        sync_failed(sync, now, "The worker stopped during the delivery; delivering again.", retry_after=0)
    due = CrmSync.objects.filter(state__in=CrmSync.WAITING, due_at__lte=now).values_list("crm", flat=True).distinct()
    queued = [crm for crm in due if client_for(crm) is not None]
    deliver_later(queued, always=True)
    return {"taken_back": len(stale), "crms_queued": len(queued)}


def sync_retry(*, sync: CrmSync, actor: User, now: datetime | None = None) -> CrmSync:
    """A person asks for a failed or dead row to be delivered now (the admin's "Retry now"). A dead row counts
    its attempts afresh."""
    now = now or timezone.now()
    with transaction.atomic():
        sync = CrmSync.objects.select_for_update().get(pk=sync.pk)
        if sync.state not in (State.FAILED, State.DEAD):
            raise DomainError(
                f"This sync is {sync.get_state_display().lower()}: only a failed or dead one can be retried.",
                errors={"state": ["Only a failed or dead sync can be retried."]},
                status_code=409,
            )
        if (
            CrmSync.objects.filter(lead_id=sync.lead_id, crm=sync.crm, state__in=CrmSync.WAITING)
            .exclude(pk=sync.pk)
            .exists()
        ):
            raise DomainError(
                "A newer sync of this lead is already waiting: it will deliver the lead as it is now.",
                errors={"state": ["A newer sync of this lead is already waiting."]},
                status_code=409,
            )
        sync.state, sync.due_at = State.FAILED, now
        if sync.attempts >= settings.CRM_SYNC_MAX_ATTEMPTS:
            sync.attempts = 0
        sync.triggers = [*sync.triggers, {"name": "retried", "at": now.isoformat(), "by": actor.email}]
        sync.save(update_fields=["state", "due_at", "attempts", "triggers"])
        transaction.on_commit(lambda: deliver_later([sync.crm], always=True))
    return sync


def lead_resync(*, lead: Lead, actor: User, now: datetime | None = None) -> list[CrmSync]:
    """A person asks for ``lead`` to be delivered again to every CRM (the admin's "Resync this lead")."""
    return sync_request(lead=lead, triggers=[f"resync by {actor.email}"], now=now)


def backlog(now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Per CRM: whether it is configured, rows waiting (and the oldest), failed, dead; its last success."""
    now = now or timezone.now()
    unfinished = [State.PENDING, State.FAILED, State.DELIVERING]
    # Only the rows not delivered are read (the state index): /healthz asks this, and the log of delivered rows
    # grows without end.
    counts = {
        row["crm"]: row
        for row in CrmSync.objects.filter(state__in=[*unfinished, State.DEAD])
        .values("crm")
        .annotate(
            waiting=Count("pk", filter=Q(state__in=unfinished)),
            failed=Count("pk", filter=Q(state=State.FAILED)),
            dead=Count("pk", filter=Q(state=State.DEAD)),
            oldest=Min("created_at", filter=Q(state__in=unfinished)),
        )
    }
    statuses = {s.crm: s for s in CrmStatus.objects.all()}
    report = {}
    for crm in Crm.values:
        row = counts.get(crm, {})
        status = statuses.get(crm)
        report[crm] = {
            "configured": client_for(crm) is not None,
            "waiting": row.get("waiting", 0),
            "failed": row.get("failed", 0),
            "dead": row.get("dead", 0),
            "oldest_waiting_seconds": round((now - row["oldest"]).total_seconds()) if row.get("oldest") else None,
            "last_success_at": status.last_success_at if status else None,
            "api_used": status.api_used if status else None,
            "api_limit": status.api_limit if status else None,
        }
    return report
