"""The plant's part in a sandbox's lifecycle (``sandboxes/signals.py``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django_tenants.utils import schema_context

from sandboxes.models import Sandbox
from sandboxes.signals import sandbox_started
from simulation.services import plant_start
from simulation.tasks import kpis_warm


@receiver(sandbox_started, dispatch_uid="simulation.plant_start")
def sandbox_plant_start(sender: Any, sandbox: Sandbox, **_: Any) -> None:
    """In the sandbox's schema: its plant takes the sandbox's seed and starts at its ``reset_at``; a sandbox
    someone will look at now has its KPIs computed by a worker once the step commits."""
    assert sandbox.reset_at is not None
    plant_start(scenario_key=sandbox.industry, seed=sandbox.seed, started_at=sandbox.reset_at)
    if sandbox.status == Sandbox.Status.READY:
        kpis_warm_later(sandbox)


def kpis_warm_later(sandbox: Sandbox) -> None:
    """After the transaction commits, have a worker compute the sandbox's KPIs into the cache."""

    def send() -> None:
        with schema_context(sandbox.schema_name):  # the task runs in the schema it was sent from
            kpis_warm.delay()

    transaction.on_commit(send)
