"""Writes to analytics records."""

from __future__ import annotations

from analytics.models import ArchivedSandbox
from sandboxes.models import Sandbox
from sandboxes.usage import requests_of


def sandbox_archive(*, sandbox: Sandbox) -> ArchivedSandbox:
    """Keep an ended sandbox's numbers, without who owned it or where it lived, before its record goes."""
    assert sandbox.ended_at is not None, "only an ended sandbox is archived"
    return ArchivedSandbox.objects.create(
        industry=sandbox.industry,
        product=sandbox.product,
        role=sandbox.role,
        created_at=sandbox.created_at,
        ended_at=sandbox.ended_at,
        end_status=sandbox.status,
        extensions=sandbox.extensions,
        resets=sandbox.audit_entries.filter(action__in=["reset", "auto_reset"]).count(),
        requests=requests_of(sandbox=sandbox),
        provisioning_ms=sandbox.provisioning_ms,
    )
