from __future__ import annotations

from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Avg, Count, F, Min, Q
from django_tenants.utils import get_public_schema_name, schema_context

from sandboxes.models import Domain, Sandbox


def sandbox_for_host(hostname: str) -> Sandbox | None:
    """The sandbox (or the public tenant) that ``hostname`` routes to, or None."""
    # Domains live in the public schema; a pooled connection may still point at another sandbox.
    with schema_context(get_public_schema_name()):
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    return domain.tenant if domain is not None else None


def schemas_with_pending_migrations() -> list[str]:
    """Schemas (public first, then each sandbox) whose django_migrations lacks a migration that is on disk.

    One small query per schema: much cheaper than `migrate_schemas` finding nothing to do, which
    builds a full executor for every schema.
    """
    on_disk = set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)
    schemas = [get_public_schema_name()]
    with schema_context(get_public_schema_name()):
        schemas += list(
            Sandbox.objects.exclude(schema_name=get_public_schema_name()).values_list("schema_name", flat=True)
        )
    pending = []
    for schema in schemas:
        with schema_context(schema):
            if on_disk - set(MigrationRecorder(connection).applied_migrations()):
                pending.append(schema)
    return pending


def sandbox_stats() -> dict[str, int | float | None]:
    """Counts of demo sandboxes by state, and how long the ended ones lived on average (minutes)."""
    demos = Sandbox.objects.filter(kind=Sandbox.Kind.DEMO)
    counts = demos.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status__in=["provisioning", "ready", "resetting"])),
        expired=Count("pk", filter=Q(status="expired")),
        destroyed=Count("pk", filter=Q(status="destroyed")),
    )
    ended = demos.filter(status__in=["expired", "destroyed"]).annotate(
        ended_at=Min("audit_entries__at", filter=Q(audit_entries__action__in=["expired", "destroyed"]))
    )
    lived = ended.aggregate(average=Avg(F("ended_at") - F("created_at")))["average"]
    return {**counts, "avg_duration_minutes": round(lived.total_seconds() / 60, 1) if lived is not None else None}
