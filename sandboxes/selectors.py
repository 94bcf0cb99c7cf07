from __future__ import annotations

from django_tenants.utils import get_public_schema_name, schema_context

from sandboxes.models import Domain, Sandbox


def sandbox_for_host(hostname: str) -> Sandbox | None:
    """The sandbox (or the public tenant) that ``hostname`` routes to, or None."""
    # Domains live in the public schema; a pooled connection may still point at another sandbox.
    with schema_context(get_public_schema_name()):
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    return domain.tenant if domain is not None else None
