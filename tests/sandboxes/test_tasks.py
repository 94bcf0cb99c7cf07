"""Celery tasks carry the sender's sandbox schema to a real worker process (tenant-schemas-celery)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from sandboxes.models import Sandbox
from sandboxes.tasks import sandbox_schema_report


@pytest.mark.usefixtures("celery_worker_process")
def test_task_sent_inside_a_sandbox_schema_runs_in_that_schema_on_the_worker(sandbox: Sandbox) -> None:
    with schema_context(sandbox.schema_name):
        result = sandbox_schema_report.delay()

    assert result.get(timeout=30) == {"django": sandbox.schema_name, "database": sandbox.schema_name}


@pytest.mark.usefixtures("celery_worker_process")
def test_task_sent_from_the_portal_runs_in_the_public_schema(sandbox: Sandbox) -> None:
    result = sandbox_schema_report.delay()

    assert result.get(timeout=30) == {"django": "public", "database": "public"}
