from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Count, Q, QuerySet
from django_tenants.utils import get_public_schema_name, schema_context

from demoportal.core import catalogue
from demoportal.core.models import User
from sandboxes.models import Domain, Sandbox, SandboxAuditEntry


def sandboxes_visible_to(*, user: User) -> QuerySet[Sandbox]:
    """The demo sandboxes ``user`` may see and act on: staff every one; a partner user their own and
    every sandbox of their (active) partner organisation; a prospect their own. Never the warm pool."""
    sandboxes: QuerySet[Sandbox] = (
        Sandbox.objects.filter(kind=Sandbox.Kind.DEMO)
        .exclude(status=Sandbox.Status.POOLED)
        .select_related("owner", "partner")
    )
    if user.is_staff:
        return sandboxes
    partner = user.active_partner
    if partner is not None:
        return sandboxes.filter(Q(owner=user) | Q(partner=partner))
    return sandboxes.filter(owner=user)


def sandbox_is_visible_to(*, sandbox: Sandbox, user: User) -> bool:
    """Whether ``user`` may see ``sandbox`` (the rule of ``sandboxes_visible_to``, for one sandbox)."""
    if user.is_staff or (sandbox.owner_id is not None and sandbox.owner_id == user.pk):
        return True
    partner = user.active_partner
    return partner is not None and sandbox.partner_id == partner.pk


def sandbox_is_watched_by(*, sandbox: Sandbox, user: User) -> bool:
    """Whether ``user`` only watches ``sandbox``: staff on a prospect's sandbox they do not own see its pages
    read-only, so nothing they do changes the prospect's plant or counts as the prospect's engagement."""
    return bool(user.is_staff and sandbox.owner_id is not None and sandbox.owner_id != user.pk)


def sandbox_for_host(hostname: str) -> Sandbox | None:
    """The sandbox (or the public tenant) that ``hostname`` routes to, or None."""
    # Domains live in the public schema; a pooled connection may still point at another sandbox.
    with schema_context(get_public_schema_name()):
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    return domain.tenant if domain is not None else None


def sandbox_schemas() -> list[str]:
    """The schemas of every sandbox and template that has one: an ended sandbox's row stays until the
    retention purge, but its schema is gone (and one that failed early may never have had one)."""
    with schema_context(get_public_schema_name()):
        names = list(
            Sandbox.objects.exclude(schema_name=get_public_schema_name())
            .order_by("pk")
            .values_list("schema_name", flat=True)
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [names])
            existing = {name for (name,) in cursor.fetchall()}
    return [name for name in names if name in existing]


def schemas_with_pending_migrations() -> list[str]:
    """Schemas (public first, then each sandbox) whose django_migrations lacks a migration that is on disk.

    One small query per schema: much cheaper than `migrate_schemas` finding nothing to do, which
    builds a full executor for every schema.
    """
    on_disk = set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)
    schemas = [get_public_schema_name(), *sandbox_schemas()]
    pending = []
    for schema in schemas:
        with schema_context(schema):
            if on_disk - set(MigrationRecorder(connection).applied_migrations()):
                pending.append(schema)
    return pending


def schema_bytes_sql(schema: str) -> str:
    """SQL for the bytes the schema named by the SQL expression ``schema`` takes in PostgreSQL (tables,
    indexes, TOAST): one definition for the API's per-sandbox figure and the admin list's column."""
    relations = "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    size = "coalesce(sum(pg_total_relation_size(c.oid)), 0)"
    return f"(SELECT {size} FROM {relations} WHERE n.nspname = {schema} AND c.relkind IN ('r', 'm'))"  # noqa: S608


def storage_by_schema(schemas: list[str]) -> dict[str, int]:
    """Bytes each schema takes in PostgreSQL, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.name, {schema_bytes_sql('s.name')} FROM unnest(%s::text[]) AS s(name)",  # noqa: S608
            [schemas],
        )
        return {name: int(size) for name, size in cursor.fetchall()}


def pool_status() -> list[dict[str, object]]:
    """Per industry: warm sandboxes waiting, the target size, and the claims served from the pool so far."""
    waiting = dict(
        Sandbox.objects.filter(kind=Sandbox.Kind.DEMO, status=Sandbox.Status.POOLED)
        .values_list("industry")
        .annotate(n=Count("pk"))
        .values_list("industry", "n")
    )
    claimed = dict(
        SandboxAuditEntry.objects.filter(action="claim")
        .values_list("sandbox__industry")
        .annotate(n=Count("pk"))
        .values_list("sandbox__industry", "n")
    )
    return [
        {
            "industry": key,
            "name": scenario.name,
            "waiting": waiting.get(key, 0),
            "target": settings.SANDBOX_POOL_SIZE,
            "claimed": claimed.get(key, 0),
        }
        for key, scenario in sorted(catalogue.scenarios().items())
    ]
