"""Writes to sandboxes: the portal's own tenant, scenario templates, and every lifecycle transition.

Each transition goes through a function here, runs in a transaction, and writes an audit entry
(who, when, what, how long). An illegal transition raises DomainError with status 409.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from demoportal.core import catalogue
from demoportal.core.exceptions import DomainError
from demoportal.core.formats import moment_text
from demoportal.core.hashers import temporary_password_set
from demoportal.core.models import Partner, User
from sandboxes.access import sandbox_host
from sandboxes.models import (
    ACTIVE_STATUSES,
    ENDED_STATUSES,
    Domain,
    Sandbox,
    SandboxAuditEntry,
)
from sandboxes.signals import demo_started, sandbox_extended, sandbox_purging, sandbox_started
from sandboxes.tokens import access_token_issue

Status = Sandbox.Status

logger = logging.getLogger(__name__)


def portal_tenant_ensure() -> Sandbox:
    """Create, if missing, the public tenant and its domains: PORTAL_HOST, localhost and 127.0.0.1. Idempotent."""
    portal: Sandbox
    with transaction.atomic():
        portal, _ = Sandbox.objects.get_or_create(
            schema_name=get_public_schema_name(),
            defaults={"slug": "portal", "name": "Demo portal", "kind": Sandbox.Kind.PORTAL},
        )
        hosts = dict.fromkeys([settings.PORTAL_HOST, "localhost", "127.0.0.1"])
        for index, host in enumerate(hosts):
            Domain.objects.get_or_create(domain=host, defaults={"tenant": portal, "is_primary": index == 0})
    return portal


def audit(
    *, sandbox: Sandbox, action: str, before: str, actor: User | None, started: float | None = None, **detail: object
) -> SandboxAuditEntry:
    """Record a transition; ``started`` (a perf_counter reading) gives its duration."""
    duration = round((time.perf_counter() - started) * 1000) if started is not None else None
    return SandboxAuditEntry.objects.create(
        sandbox=sandbox,
        action=action,
        from_status=before,
        to_status=sandbox.status,
        actor=actor,
        actor_label=actor.email if actor is not None else "system",
        duration_ms=duration,
        detail=detail,
    )


def sandbox_create(
    *,
    slug: str,
    name: str,
    scenario: str,
    owner: User | None = None,
    product: str = "",
    role: str = "",
    actor: User | None = None,
    pooled: bool = False,
    partner: Partner | None = None,
    purpose: str = Sandbox.Purpose.EVALUATION,
    customer_company: str = "",
) -> Sandbox:
    """Create a ready sandbox: a clone of the scenario's template (or a migrated schema when there is no
    template yet), its host ``<slug>.<DEMO_DOMAIN>``, and its own plant seed and start time.
    ``pooled``: a warm-pool member, with no owner and no expiry until ``pool_claim`` hands it out.
    ``partner``, ``purpose``, ``customer_company``: a partner user's training or customer demo.

    One transaction: the row, the schema (PostgreSQL DDL is transactional), the domain and the plant
    all exist afterwards, or none does.
    """
    if scenario not in catalogue.scenarios():
        raise DomainError(
            f"Unknown industry {scenario!r}.",
            errors={"industry": [f"Choose one of {', '.join(sorted(catalogue.scenarios()))}."]},
        )
    started = time.perf_counter()
    sandbox = Sandbox(
        schema_name=slug.replace("-", "_"),
        slug=slug,
        name=name,
        kind=Sandbox.Kind.DEMO,
        industry=scenario,
        owner=owner,
        product=product,
        role=role,
        partner=partner,
        purpose=purpose,
        customer_company=customer_company,
        status=Status.PROVISIONING,
        seed=secrets.randbits(31),
    )
    sandbox.full_clean()
    # Tenants are created from the public schema, whatever a previous request left active.
    with schema_context(get_public_schema_name()), transaction.atomic():
        sandbox.save(verbosity=0)
        Domain.objects.create(domain=sandbox_host(slug=slug), tenant=sandbox, is_primary=True)
        now = timezone.now()
        sandbox.status = Status.POOLED if pooled else Status.READY
        sandbox.ready_at = sandbox.reset_at = now
        sandbox.expires_at = None if pooled else now + timedelta(hours=settings.SANDBOX_LIFETIME_HOURS)
        with schema_context(sandbox.schema_name):
            sandbox_started.send(sender=Sandbox, sandbox=sandbox)  # its plant starts (simulation/receivers.py)
        sandbox.provisioning_ms = round((time.perf_counter() - started) * 1000)
        sandbox.save(update_fields=["status", "ready_at", "reset_at", "expires_at", "provisioning_ms"])
        audit(sandbox=sandbox, action="provision", before=Status.PROVISIONING, actor=actor, started=started)
    return sandbox


def pool_claim(
    *,
    industry: str,
    owner: User,
    product: str,
    role: str,
    actor: User | None,
    partner: Partner | None = None,
    purpose: str = Sandbox.Purpose.EVALUATION,
    customer_company: str = "",
) -> Sandbox | None:
    """Hand a warm-pool sandbox of ``industry`` to ``owner`` (attributed to ``partner``, made for
    ``purpose``), or None when the pool is empty.

    The claim is one conditional UPDATE; SKIP LOCKED lets concurrent claims take different members
    instead of queueing on the same one. The plant then starts now, so the prospect's story begins at
    their first look whatever the time the clone spent waiting.
    """
    started = time.perf_counter()
    now = timezone.now()
    table = Sandbox._meta.db_table
    with schema_context(get_public_schema_name()), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table}
                   SET status = %(ready)s, owner_id = %(owner)s, product = %(product)s, role = %(role)s,
                       seed = %(seed)s,
                       partner_id = %(partner)s, purpose = %(purpose)s, customer_company = %(customer)s,
                       ready_at = %(now)s, reset_at = %(now)s, expires_at = %(expires)s
                 WHERE status = %(pooled)s
                   AND id = (SELECT id FROM {table}
                              WHERE kind = %(demo)s AND status = %(pooled)s AND industry = %(industry)s
                              ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id
                """,  # noqa: S608  # the model's own table name; values are parameters
                {
                    "ready": Status.READY,
                    "owner": owner.pk,
                    "seed": secrets.randbits(31),  # its own story, not the template's
                    "product": product,
                    "role": role,
                    "partner": partner.pk if partner is not None else None,
                    "purpose": purpose,
                    "customer": customer_company,
                    "now": now,
                    "expires": now + timedelta(hours=settings.SANDBOX_LIFETIME_HOURS),
                    "pooled": Status.POOLED,
                    "demo": Sandbox.Kind.DEMO,
                    "industry": industry,
                },
            )
            row = cursor.fetchone()
        if row is None:
            return None
        sandbox: Sandbox = Sandbox.objects.select_related("owner", "partner").get(pk=row[0])
        with schema_context(sandbox.schema_name):
            sandbox_started.send(sender=Sandbox, sandbox=sandbox)  # its plant starts now
        sandbox.provisioning_ms = round((time.perf_counter() - started) * 1000)
        sandbox.save(update_fields=["provisioning_ms"])
        audit(sandbox=sandbox, action="claim", before=Status.POOLED, actor=actor, started=started)
    return sandbox


@contextmanager
def session_lock(name: str) -> Iterator[bool]:
    """Try to take PostgreSQL's session-level advisory lock ``name``, without waiting; yields whether it was
    taken, and releases it afterwards.

    Why not a lock in Redis: that one has to outlive the work it guards, so it gets a TTL, and a process killed
    mid-work shuts everyone out until the TTL runs out. This lock lives exactly as long as its holder's
    connection: a killed process frees it as soon as PostgreSQL notices, a slow one keeps it however long it takes.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [name])
        taken = bool(cursor.fetchone()[0])
    try:
        yield taken
    finally:
        if taken:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [name])


def pool_refill(*, industry: str | None = None) -> int:
    """Top each industry's warm pool (or just ``industry``'s) up to SANDBOX_POOL_SIZE; returns how many
    clones it made. A lock per industry keeps two refills from overfilling the same pool."""
    made = 0
    for key in [industry] if industry else sorted(catalogue.scenarios()):
        with session_lock(f"sandbox-pool-refill:{key}") as taken:
            if not taken:
                continue  # another worker is filling this pool
            pooled = Sandbox.objects.filter(kind=Sandbox.Kind.DEMO, status=Status.POOLED, industry=key).count()
            for _ in range(settings.SANDBOX_POOL_SIZE - pooled):
                sandbox_create(slug=new_slug(key), name=catalogue.scenarios()[key].name, scenario=key, pooled=True)
                made += 1
    return made


def new_slug(industry: str) -> str:
    """A fresh, unguessable sandbox address label, e.g. ``oil-gas-3f9a1c07``."""
    return f"{industry.replace('_', '-')}-{secrets.token_hex(4)}"


def drop_schema(sandbox: Sandbox) -> None:
    """Drop the sandbox's schema inside the current transaction. Deferred foreign-key checks of rows
    written earlier in it must fire first: PostgreSQL refuses to drop tables with pending trigger events."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    sandbox._drop_schema(force_drop=True)


def transition_lock_name(sandbox: Sandbox) -> str:
    return f"sandbox-transition:{sandbox.pk}"


@contextmanager
def _transition(sandbox: Sandbox, *, allowed: tuple[str, ...], to: str, action: str) -> Iterator[str]:
    """Move ``sandbox`` to ``to`` only if it is in one of ``allowed``: a single conditional UPDATE, so of
    two concurrent requests exactly one wins. Yields the status it was in; 409 otherwise.

    The new status is committed at once, so others see "resetting" while the work runs in its own
    transaction. The sandbox's transition lock is held until the caller's work is done: a status a
    transition left behind with its lock free belongs to a process that died, and ``sandboxes_recover``
    repairs it.
    """
    with session_lock(transition_lock_name(sandbox)) as taken:
        before = Sandbox.objects.filter(pk=sandbox.pk).values_list("status", flat=True).first()
        if not taken:
            raise DomainError(
                "Someone else is changing this sandbox right now.", errors={"status": [str(before)]}, status_code=409
            )
        claimed = Sandbox.objects.filter(pk=sandbox.pk, status__in=allowed).update(status=to)
        if not claimed or before is None:
            current = Sandbox.objects.filter(pk=sandbox.pk).values_list("status", flat=True).first()
            raise DomainError(
                f"A sandbox that is {current} cannot be {action}.", errors={"status": [str(current)]}, status_code=409
            )
        sandbox.status = to
        yield str(before)


def sandbox_reset(*, sandbox: Sandbox, actor: User | None = None, automatic: bool = False) -> Sandbox:
    """Back to the scenario's start: the schema is replaced by a fresh clone; the URL stays the same.
    ``automatic``: the daily auto-reset, audited as such."""
    started = time.perf_counter()
    with _transition(sandbox, allowed=(Status.READY,), to=Status.RESETTING, action="reset") as before:
        try:
            with schema_context(get_public_schema_name()), transaction.atomic():
                drop_schema(sandbox)
                sandbox.create_schema(check_if_exists=False, verbosity=0)
                sandbox.status = Status.READY
                sandbox.reset_at = timezone.now()
                with schema_context(sandbox.schema_name):
                    sandbox_started.send(sender=Sandbox, sandbox=sandbox)  # the same story (seed), from now
                sandbox.save(update_fields=["status", "reset_at"])
                action = "auto_reset" if automatic else "reset"
                audit(sandbox=sandbox, action=action, before=before, actor=actor, started=started)
        except Exception as exc:
            Sandbox.objects.filter(pk=sandbox.pk).update(status=Status.FAILED, failure_reason=f"reset: {exc}")
            raise
    return sandbox


def sandbox_extend(
    *, sandbox: Sandbox, hours: int, actor: User | None = None, reason: str = "", on_behalf_of_sales: bool = False
) -> Sandbox:
    """Push expiry back by 1-168 hours: at most 7 days from creation for a prospect, 30 for staff (with a reason).
    ``on_behalf_of_sales``: the system extends as staff would (a qualified lead's sandbox), with a reason."""
    if not 1 <= hours <= 168:
        raise DomainError("Extend by 1 to 168 hours.", errors={"hours": ["Must be between 1 and 168."]})
    staff = on_behalf_of_sales or (actor is not None and actor.is_staff)
    if staff and not reason.strip():
        raise DomainError("Staff extensions need a reason.", errors={"reason": ["Say why, for the audit trail."]})
    cap_days = settings.SANDBOX_MAX_DAYS_STAFF if staff else settings.SANDBOX_MAX_DAYS_PROSPECT
    with schema_context(get_public_schema_name()), transaction.atomic():
        locked = Sandbox.objects.select_for_update().get(pk=sandbox.pk)
        if locked.status != Status.READY:
            raise DomainError(f"A sandbox that is {locked.status} cannot be extended.", status_code=409)
        assert locked.expires_at is not None
        new_expiry = locked.expires_at + timedelta(hours=hours)
        cap = locked.created_at + timedelta(days=cap_days)
        if new_expiry > cap:
            raise DomainError(
                f"A sandbox lives at most {cap_days} days from creation, until {moment_text(cap)}.",
                errors={
                    "hours": [f"At most {max(0, int((cap - locked.expires_at).total_seconds() // 3600))} more hours."]
                },
            )
        locked.expires_at = new_expiry
        locked.extensions += 1
        if staff:
            given = f"{hours // 24} more days" if hours % 24 == 0 and hours > 24 else f"{hours} more hours"
            locked.extension_notice = f"Our sales team gave you {given} to evaluate."
        locked.save(update_fields=["expires_at", "extensions", "extension_notice"])
        audit(sandbox=locked, action="extend", before=locked.status, actor=actor, hours=hours, reason=reason)
        sandbox_extended.send(sender=Sandbox, sandbox=locked, hours=hours, by_staff=staff)
    sandbox.refresh_from_db()
    return sandbox


def _end(sandbox: Sandbox, *, allowed: tuple[str, ...], to: str, action: str, actor: User | None) -> Sandbox:
    """Drop the schema but keep the row, its domain (which then answers 410), audit trail and analytics."""
    started = time.perf_counter()
    with (
        _transition(sandbox, allowed=allowed, to=to, action=action) as before,
        schema_context(get_public_schema_name()),
        transaction.atomic(),
    ):
        drop_schema(sandbox)
        sandbox.ended_at = timezone.now()
        Sandbox.objects.filter(pk=sandbox.pk).update(ended_at=sandbox.ended_at)
        audit(sandbox=sandbox, action=action, before=before, actor=actor, started=started)
    return sandbox


def sandbox_end(*, sandbox: Sandbox, actor: User | None = None) -> Sandbox:
    allowed = (Status.READY, Status.FAILED, Status.EXPIRED)
    return _end(sandbox, allowed=allowed, to=Status.DESTROYED, action="destroyed", actor=actor)


def sandboxes_expire(*, now: datetime | None = None) -> int:
    """Expire every ready sandbox past its expiry (run by beat every minute). Returns how many."""
    due = Sandbox.objects.filter(kind=Sandbox.Kind.DEMO, status=Status.READY, expires_at__lte=now or timezone.now())
    count = 0
    for sandbox in due:
        try:
            _end(sandbox, allowed=(Status.READY,), to=Status.EXPIRED, action="expired", actor=None)
            count += 1
        except DomainError:
            continue  # someone else moved it meanwhile
    return count


def sandboxes_auto_reset(*, now: datetime | None = None) -> int:
    """Reset every ready sandbox with the auto-reset policy whose plant has run SANDBOX_AUTO_RESET_HOURS
    (beat, every minute). A sandbox someone else is moving is skipped; one that fails is marked failed
    and the sweep goes on. Returns how many were reset."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.SANDBOX_AUTO_RESET_HOURS)
    due = Sandbox.objects.filter(kind=Sandbox.Kind.DEMO, status=Status.READY, auto_reset=True, reset_at__lte=cutoff)
    count = 0
    for sandbox in due:
        try:
            sandbox_reset(sandbox=sandbox, automatic=True)
            count += 1
        except DomainError:
            continue
        except Exception:
            logger.exception("Auto-reset of sandbox %s failed", sandbox.slug)
    return count


def sandboxes_recover() -> int:
    """Repair what transitions left behind when their process died mid-way (beat, every minute); returns how
    many sandboxes it repaired.

    A transition commits its new status first and does its work in one transaction, which PostgreSQL rolls
    back when the process dies; the status stays, and the transition lock is free. Such a sandbox is
    repaired under that lock: one stuck ``resetting`` is ``ready`` again (its old schema and plant are
    intact; ``failed`` if the schema is somehow gone), and an expired or destroyed one without ``ended_at``
    has its schema dropped and ``ended_at`` set. One whose transition is still running holds the lock and
    is left alone. Provisioning needs no repair: the row is committed only with its schema, ready.
    """
    interrupted = Q(status=Status.RESETTING) | Q(status__in=ENDED_STATUSES, ended_at__isnull=True)
    count = 0
    for sandbox in Sandbox.objects.filter(interrupted, kind=Sandbox.Kind.DEMO):
        with session_lock(transition_lock_name(sandbox)) as taken:
            if taken and _recover(sandbox):
                count += 1
    return count


def _recover(sandbox: Sandbox) -> bool:
    """Under the sandbox's transition lock: repair it if it is still as its dead transition left it."""
    with schema_context(get_public_schema_name()), transaction.atomic():
        locked = Sandbox.objects.select_for_update().filter(pk=sandbox.pk).first()
        if locked is None:
            return False
        before = locked.status
        # Rows are written with update(): saving a tenant whose schema is missing makes django-tenants create it.
        if before == Status.RESETTING:
            if schema_exists(locked.schema_name):
                locked.status = Status.READY
            else:
                locked.status, locked.failure_reason = Status.FAILED, "reset: interrupted, and its schema is gone"
            Sandbox.objects.filter(pk=locked.pk).update(status=locked.status, failure_reason=locked.failure_reason)
        elif locked.has_ended and locked.ended_at is None:
            drop_schema(locked)
            locked.ended_at = timezone.now()
            Sandbox.objects.filter(pk=locked.pk).update(ended_at=locked.ended_at)
        else:
            return False  # its transition finished between the sweep's query and the lock
        audit(sandbox=locked, action="recovered", before=before, actor=None, reason="its process died mid-transition")
        logger.warning("Sandbox %s: repaired a transition interrupted while %s", locked.slug, before)
    return True


def sandboxes_purge(*, now: datetime | None = None) -> int:
    """Delete the records of sandboxes that ended more than SANDBOX_RETENTION_DAYS ago: the row, its
    domain and audit trail go; an anonymised ``ArchivedSandbox`` keeps the numbers. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SANDBOX_RETENTION_DAYS)
    due = Sandbox.objects.filter(kind=Sandbox.Kind.DEMO, status__in=ENDED_STATUSES, ended_at__lte=cutoff)
    count = 0
    for sandbox in due:
        with schema_context(get_public_schema_name()), transaction.atomic():
            sandbox_purging.send(sender=Sandbox, sandbox=sandbox)  # analytics keeps its numbers
            sandbox.delete(force_drop=True)  # the schema went when it ended; this removes row, domain, audit
        count += 1
    return count


@dataclass(frozen=True)
class Provisioned:
    """What ``sandbox_provision`` hands back. ``password``: the temporary password of a login it created
    for the prospect; ``access_token``: the new sandbox's API token. Both exist nowhere else in clear (only
    their hashes are stored), so the caller shows them once; both are None for an existing sandbox."""

    sandbox: Sandbox
    password: str | None
    created: bool
    access_token: str | None


def sandbox_provision(
    *,
    email: str,
    product: str,
    industry: str,
    role: str = "",
    company: str = "",
    actor: User | None = None,
    partner: Partner | None = None,
    purpose: str = Sandbox.Purpose.EVALUATION,
    customer_company: str = "",
) -> Provisioned:
    """A ready sandbox for ``email``'s demo of ``product`` in ``industry``, with its API token and, if a
    login was created for the prospect, its temporary password (``Provisioned``).

    Taken from the industry's warm pool when it has one waiting, else cloned now. The prospect's one
    active sandbox for that product is returned as it is, rather than a second one (a database
    constraint holds that even for two racing requests); at MAX_ACTIVE_SANDBOXES ready sandboxes the
    request is refused with 503. All or nothing, in one transaction: a failure leaves neither a login,
    nor a sandbox, nor a token.

    A partner user's sandbox names its ``partner`` and is made for ``purpose`` "training" or
    "customer_demo" (then ``customer_company`` is required); a prospect's is an "evaluation". It counts
    toward the same one-active-per-owner-and-product rule.
    """
    customer_company = customer_company.strip() if purpose == Sandbox.Purpose.CUSTOMER_DEMO else ""
    errors = choice_errors(product=product, industry=industry, role=role) | purpose_errors(
        partner=partner, purpose=purpose, customer_company=customer_company
    )
    if errors:
        raise DomainError("Some fields are not valid.", errors=errors)

    def attempt() -> Provisioned:
        with schema_context(get_public_schema_name()), transaction.atomic():
            return _provision(
                email=email,
                product=product,
                industry=industry,
                role=role,
                company=company,
                actor=actor,
                partner=partner,
                purpose=purpose,
                customer_company=customer_company,
            )

    try:
        return attempt()
    except IntegrityError:
        # A concurrent request for the same prospect and product (or the same new login) won the race.
        return attempt()


def _provision(
    *,
    email: str,
    product: str,
    industry: str,
    role: str,
    company: str,
    actor: User | None,
    partner: Partner | None,
    purpose: str,
    customer_company: str,
) -> Provisioned:
    owner = User.objects.filter(email__iexact=email).first()
    password = None
    if owner is not None:
        existing = Sandbox.objects.filter(
            owner=owner, product=product, kind=Sandbox.Kind.DEMO, status__in=ACTIVE_STATUSES
        ).first()
        if existing is not None:
            return Provisioned(sandbox=existing, password=None, created=False, access_token=None)
    if Sandbox.objects.filter(kind=Sandbox.Kind.DEMO, status=Status.READY).count() >= settings.MAX_ACTIVE_SANDBOXES:
        raise DomainError(
            "All demo sandboxes are in use right now. Please try again in a few minutes.",
            status_code=503,
            retry_after=300,
        )
    if owner is None:
        owner = User(email=User.objects.normalize_email(email), company=company)
        password = temporary_password_set(owner)
        owner.save()
    elif company and not owner.company:
        owner.company = company
        owner.save(update_fields=["company"])
    sandbox = pool_claim(
        industry=industry,
        owner=owner,
        product=product,
        role=role,
        actor=actor,
        partner=partner,
        purpose=purpose,
        customer_company=customer_company,
    )
    from_pool = sandbox is not None
    if sandbox is None:
        sandbox = sandbox_create(
            slug=new_slug(industry),
            name=catalogue.scenarios()[industry].name,
            scenario=industry,
            owner=owner,
            product=product,
            role=role,
            actor=actor,
            partner=partner,
            purpose=purpose,
            customer_company=customer_company,
        )
    token = access_token_issue(sandbox=sandbox)
    demo_started.send(sender=Sandbox, sandbox=sandbox, from_pool=from_pool, actor=actor)
    if settings.SANDBOX_POOL_SIZE:
        transaction.on_commit(lambda: pool_refill_later(industry))
    return Provisioned(sandbox=sandbox, password=password, created=True, access_token=token)


# A refill after a claim waits this long, so the clone does not compete for CPU with the prospect's first
# page loads (measured by bench/journey.py on a 2-core machine).
POOL_REFILL_DELAY_SECONDS = 5


def pool_refill_later(industry: str) -> None:
    """Ask the warm-up worker to top ``industry``'s pool up again (its own one-at-a-time queue)."""
    from sandboxes.tasks import pool_refill_task  # the tasks module imports this one

    pool_refill_task.apply_async(kwargs={"industry": industry}, countdown=POOL_REFILL_DELAY_SECONDS)


def purpose_errors(*, partner: Partner | None, purpose: str, customer_company: str) -> dict[str, list[str]]:
    """Per-field errors for a sandbox's purpose: partners train or demo to a customer, prospects evaluate."""
    if purpose not in Sandbox.Purpose.values:
        return {"purpose": [f"{purpose!r} is not one of: {', '.join(Sandbox.Purpose.values)}."]}
    if partner is None:
        if purpose != Sandbox.Purpose.EVALUATION:
            return {"purpose": ["Only partner users make sandboxes for training or for a customer."]}
        return {}
    if not partner.is_active:
        return {"purpose": [f"{partner.name} is no longer an active partner."]}
    if purpose == Sandbox.Purpose.EVALUATION:
        return {"purpose": ["Say whether this sandbox is for your own training or for a customer."]}
    if purpose == Sandbox.Purpose.CUSTOMER_DEMO and not customer_company:
        return {"customer_company": ["Name the customer this demo is for."]}
    if len(customer_company) > 200:
        return {"customer_company": ["At most 200 characters."]}
    return {}


def choice_errors(*, product: str, industry: str, role: str) -> dict[str, list[str]]:
    """Per-field errors for values outside the catalogue, naming the allowed ones."""
    allowed = {
        "product": sorted(p["key"] for p in catalogue.products()),
        "industry": sorted(catalogue.scenarios()),
        "role": sorted(r["key"] for r in catalogue.roles()),
    }
    errors = {}
    for field, value in (("product", product), ("industry", industry), ("role", role)):
        if (value or field != "role") and value not in allowed[field]:
            errors[field] = [f"{value!r} is not one of: {', '.join(allowed[field])}."]
    return errors


def sandbox_staff_entry(*, sandbox: Sandbox, actor: User, watching: bool) -> None:
    """Let staff into ``sandbox``'s host (the admin's "Open as staff", or "Watch live" read-only on a prospect's
    sandbox), audited as ``opened_by_staff`` or ``watched_by_staff``; a sandbox with nothing to enter (or, to
    watch, nobody's) is a DomainError saying why."""
    if sandbox.status != Status.READY and watching:
        raise DomainError(f"Nothing to watch in {sandbox.slug}: it is {sandbox.status}.", status_code=409)
    if sandbox.status != Status.READY:
        raise DomainError(f"{sandbox.slug} is {sandbox.status}: there is nothing to open.", status_code=409)
    if watching and sandbox.owner_id is None:
        raise DomainError(f"Nothing to watch in {sandbox.slug}: nobody owns it.", status_code=409)
    action = "watched_by_staff" if watching else "opened_by_staff"
    audit(sandbox=sandbox, action=action, before=sandbox.status, actor=actor)


SELF_SERVICE_ACTIONS = ("extend", "reset", "end")


def sandbox_self_service(*, sandbox: Sandbox, action: str, actor: User | None) -> str:
    """The owner's self-service, from My sandboxes or the sandbox's own pages: extend ``sandbox`` by a day,
    reset or end it. Returns what happened, for the user to read; a rule that says no raises DomainError."""
    if action == "extend":
        sandbox_extend(sandbox=sandbox, hours=24, actor=actor)
        assert sandbox.expires_at is not None  # extended: a ready sandbox has an expiry
        return f"{sandbox.name} now runs until {moment_text(sandbox.expires_at)}."
    if action == "reset":
        sandbox_reset(sandbox=sandbox, actor=actor)
        return f"{sandbox.name} is back at the start of its scenario."
    if action == "end":
        sandbox_end(sandbox=sandbox, actor=actor)
        return f"{sandbox.name} has ended."
    raise DomainError(f"No such action: use one of {', '.join(SELF_SERVICE_ACTIONS)}.", status_code=404)
