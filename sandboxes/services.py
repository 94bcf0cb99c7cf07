"""Writes to sandboxes: create the portal's own tenant and demo sandboxes."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_tenants.utils import get_public_schema_name

from sandboxes.models import Domain, Sandbox


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


def sandbox_create(*, slug: str, name: str) -> Sandbox:
    """Create a sandbox with its own schema (migrated) and its host ``<slug>.<DEMO_DOMAIN>``.

    Either both the row and the schema exist afterwards or neither does: django-tenants drops the
    schema if creating it fails, and the row is rolled back with the transaction.
    """
    sandbox = Sandbox(schema_name=slug.replace("-", "_"), slug=slug, name=name)
    sandbox.full_clean()
    with transaction.atomic():
        sandbox.save(verbosity=0)
        Domain.objects.create(domain=sandbox_host(slug=slug), tenant=sandbox, is_primary=True)
    return sandbox
