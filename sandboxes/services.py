"""Writes to sandboxes: create the portal's own tenant and demo sandboxes."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from sandboxes.models import Domain, Sandbox
from simulation.services import facility_load


def sandbox_host(*, slug: str) -> str:
    return f"{slug}.{settings.DEMO_DOMAIN}"


def portal_tenant_ensure() -> Sandbox:
    """Create, if missing, the public tenant and its domains: PORTAL_HOST, localhost and 127.0.0.1. Idempotent."""
    portal: Sandbox
    with transaction.atomic():
        portal, _ = Sandbox.objects.get_or_create(
            schema_name=get_public_schema_name(), defaults={"slug": "portal", "name": "Demo portal"}
        )
        hosts = dict.fromkeys([settings.PORTAL_HOST, "localhost", "127.0.0.1"])
        for index, host in enumerate(hosts):
            Domain.objects.get_or_create(domain=host, defaults={"tenant": portal, "is_primary": index == 0})
    return portal


def sandbox_create(*, slug: str, name: str, scenario: str) -> Sandbox:
    """Create a sandbox with its own schema (migrated), its host ``<slug>.<DEMO_DOMAIN>`` and its plant.

    One transaction: the row, the schema (PostgreSQL DDL is transactional), the domain and the plant
    all exist afterwards, or none does.
    """
    sandbox = Sandbox(schema_name=slug.replace("-", "_"), slug=slug, name=name)
    sandbox.full_clean()
    with transaction.atomic():
        sandbox.save(verbosity=0)
        Domain.objects.create(domain=sandbox_host(slug=slug), tenant=sandbox, is_primary=True)
        with schema_context(sandbox.schema_name):
            facility_load(scenario_key=scenario, seed=secrets.randbits(31), started_at=timezone.now())
    return sandbox
