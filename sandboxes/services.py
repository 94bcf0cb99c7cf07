"""Writes to sandboxes: the portal's own tenant, scenario templates, and every lifecycle transition.

Each transition goes through a function here, runs in a transaction, and writes an audit entry
(who, when, what, how long). An illegal transition raises DomainError with status 409.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from demoportal import catalogue
from demoportal.exceptions import DomainError
from demoportal.models import User
from sandboxes.models import Domain, Sandbox, SandboxAuditEntry, template_schema_name
from simulation.selectors import facility_get
from simulation.services import facility_load, facility_start

Status = Sandbox.Status


def sandbox_host(*, slug: str) -> str:
    return f"{slug}.{settings.DEMO_DOMAIN}"


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


def template_ensure(*, industry: str) -> Sandbox:
    """The scenario's template: a migrated schema holding the scenario's plant, ready to clone.

    Rebuilt when the scenario file's version changed, so a clone always carries the current plant.
    """
    scenario = catalogue.scenarios()[industry]
    template: Sandbox | None = Sandbox.objects.filter(kind=Sandbox.Kind.TEMPLATE, industry=industry).first()
    if template is not None:
        with schema_context(template.schema_name):
            facility = facility_get()
        if facility is not None and facility.scenario_version == scenario.version:
            return template
        template.delete(force_drop=True)
    with schema_context(get_public_schema_name()), transaction.atomic():
        template = Sandbox(
            schema_name=template_schema_name(industry),
            slug=f"template-{industry}",
            name=f"Template: {scenario.name}",
            kind=Sandbox.Kind.TEMPLATE,
            industry=industry,
        )
        template.save(verbosity=0)
        with schema_context(template.schema_name):
            facility_load(scenario_key=industry, seed=0, started_at=timezone.now())
    return template


def sandbox_create(
    *,
    slug: str,
    name: str,
    scenario: str,
    owner: User | None = None,
    product: str = "",
    role: str = "",
    actor: User | None = None,
) -> Sandbox:
    """Create a ready sandbox: a clone of the scenario's template (or a migrated schema when there is no
    template yet), its host ``<slug>.<DEMO_DOMAIN>``, and its own plant seed and start time.

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
        status=Status.PROVISIONING,
    )
    sandbox.full_clean()
    # Tenants are created from the public schema, whatever a previous request left active.
    with schema_context(get_public_schema_name()), transaction.atomic():
        sandbox.save(verbosity=0)
        Domain.objects.create(domain=sandbox_host(slug=slug), tenant=sandbox, is_primary=True)
        now = timezone.now()
        with schema_context(sandbox.schema_name):
            facility_start(scenario_key=scenario, seed=secrets.randbits(31), started_at=now)
        sandbox.status = Status.READY
        sandbox.ready_at = now
        sandbox.expires_at = now + timedelta(hours=settings.SANDBOX_LIFETIME_HOURS)
        sandbox.provisioning_ms = round((time.perf_counter() - started) * 1000)
        sandbox.save(update_fields=["status", "ready_at", "expires_at", "provisioning_ms"])
        audit(sandbox=sandbox, action="provision", before=Status.PROVISIONING, actor=actor, started=started)
    return sandbox


def drop_schema(sandbox: Sandbox) -> None:
    """Drop the sandbox's schema inside the current transaction. Deferred foreign-key checks of rows
    written earlier in it must fire first: PostgreSQL refuses to drop tables with pending trigger events."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    sandbox._drop_schema(force_drop=True)


def _claim(sandbox: Sandbox, *, allowed: tuple[str, ...], to: str, action: str) -> str:
    """Move ``sandbox`` to ``to`` only if it is in one of ``allowed``: a single conditional UPDATE, so of
    two concurrent requests exactly one wins. Returns the status it was in; 409 otherwise."""
    before = Sandbox.objects.filter(pk=sandbox.pk).values_list("status", flat=True).first()
    claimed = Sandbox.objects.filter(pk=sandbox.pk, status__in=allowed).update(status=to)
    if not claimed or before is None:
        current = Sandbox.objects.filter(pk=sandbox.pk).values_list("status", flat=True).first()
        raise DomainError(
            f"A sandbox that is {current} cannot be {action}.", errors={"status": [str(current)]}, status_code=409
        )
    sandbox.status = to
    return str(before)


def sandbox_reset(*, sandbox: Sandbox, actor: User | None = None) -> Sandbox:
    """Back to the scenario's start: the schema is replaced by a fresh clone; the URL stays the same."""
    started = time.perf_counter()
    before = _claim(sandbox, allowed=(Status.READY,), to=Status.RESETTING, action="reset")
    try:
        with schema_context(get_public_schema_name()), transaction.atomic():
            with schema_context(sandbox.schema_name):
                seed = facility.seed if (facility := facility_get()) is not None else secrets.randbits(31)
            drop_schema(sandbox)
            sandbox.create_schema(check_if_exists=False, verbosity=0)
            with schema_context(sandbox.schema_name):
                facility_start(scenario_key=sandbox.industry, seed=seed, started_at=timezone.now())
            sandbox.status = Status.READY
            sandbox.save(update_fields=["status"])
            audit(sandbox=sandbox, action="reset", before=before, actor=actor, started=started)
    except Exception as exc:
        Sandbox.objects.filter(pk=sandbox.pk).update(status=Status.FAILED, failure_reason=f"reset: {exc}")
        raise
    return sandbox


def sandbox_extend(*, sandbox: Sandbox, hours: int, actor: User | None = None, reason: str = "") -> Sandbox:
    """Push expiry back by 1-168 hours: at most 7 days from creation for a prospect, 30 for staff (with a reason)."""
    if not 1 <= hours <= 168:
        raise DomainError("Extend by 1 to 168 hours.", errors={"hours": ["Must be between 1 and 168."]})
    staff = actor is not None and actor.is_staff
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
                f"A sandbox lives at most {cap_days} days from creation, until {cap:%Y-%m-%d %H:%M} UTC.",
                errors={
                    "hours": [f"At most {max(0, int((cap - locked.expires_at).total_seconds() // 3600))} more hours."]
                },
            )
        locked.expires_at = new_expiry
        locked.extensions += 1
        locked.save(update_fields=["expires_at", "extensions"])
        audit(sandbox=locked, action="extend", before=locked.status, actor=actor, hours=hours, reason=reason)
    sandbox.refresh_from_db()
    return sandbox


def _retire(sandbox: Sandbox, *, allowed: tuple[str, ...], to: str, action: str, actor: User | None) -> Sandbox:
    """Drop the schema but keep the row, its domain (which then answers 410), audit trail and analytics."""
    started = time.perf_counter()
    before = _claim(sandbox, allowed=allowed, to=to, action=action)
    with schema_context(get_public_schema_name()), transaction.atomic():
        drop_schema(sandbox)
        audit(sandbox=sandbox, action=action, before=before, actor=actor, started=started)
    return sandbox


def sandbox_destroy(*, sandbox: Sandbox, actor: User | None = None) -> Sandbox:
    allowed = (Status.READY, Status.FAILED, Status.EXPIRED)
    return _retire(sandbox, allowed=allowed, to=Status.DESTROYED, action="destroyed", actor=actor)


def sandboxes_expire(*, now: datetime | None = None) -> int:
    """Expire every ready sandbox past its expiry (run by beat every minute). Returns how many."""
    due = Sandbox.objects.filter(kind=Sandbox.Kind.DEMO, status=Status.READY, expires_at__lte=now or timezone.now())
    count = 0
    for sandbox in due:
        try:
            _retire(sandbox, allowed=(Status.READY,), to=Status.EXPIRED, action="expired", actor=None)
            count += 1
        except DomainError:
            continue  # someone else moved it meanwhile
    return count


def sandbox_provision(
    *, email: str, product: str, industry: str, role: str = "", actor: User | None = None
) -> tuple[Sandbox, str | None, bool]:
    """A ready sandbox for ``email``'s demo of ``product`` in ``industry``: (sandbox, temporary password
    if a login was created for the prospect, created?).

    The prospect's one active sandbox for that product is returned as it is, rather than a second one;
    at MAX_ACTIVE_SANDBOXES ready sandboxes the request is refused with 503.
    """
    errors = choice_errors(product=product, industry=industry, role=role)
    if errors:
        raise DomainError("Some fields are not valid.", errors=errors)
    owner = User.objects.filter(email__iexact=email).first()
    password = None
    if owner is not None:
        existing = Sandbox.objects.filter(
            owner=owner, product=product, kind=Sandbox.Kind.DEMO, status__in=ACTIVE_STATUSES
        ).first()
        if existing is not None:
            return existing, None, False
    if Sandbox.objects.filter(kind=Sandbox.Kind.DEMO, status=Status.READY).count() >= settings.MAX_ACTIVE_SANDBOXES:
        raise DomainError(
            "All demo sandboxes are in use right now. Please try again in a few minutes.",
            status_code=503,
            retry_after=300,
        )
    if owner is None:
        password = secrets.token_urlsafe(12)
        owner = User.objects.create_user(email=email, password=password)
    scenario = catalogue.scenarios()[industry]
    slug = f"{industry.replace('_', '-')}-{secrets.token_hex(4)}"
    sandbox = sandbox_create(
        slug=slug, name=scenario.name, scenario=industry, owner=owner, product=product, role=role, actor=actor
    )
    return sandbox, password, True


ACTIVE_STATUSES = (Status.PROVISIONING, Status.READY, Status.RESETTING)


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
