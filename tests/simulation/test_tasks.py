"""KPIs are computed by a worker when a sandbox is made or reset, so its first page does not wait."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from django.db import connection
from django_tenants.utils import schema_context

from sandboxes.models import Sandbox
from sandboxes.services import sandbox_provision, sandbox_reset
from simulation.models import Plant
from simulation.selectors import plant as plant_selectors
from simulation.selectors.plant import plant_get, plant_kpis
from simulation.tasks import kpis_warm

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("celery_worker_process")
def test_the_worker_fills_the_kpi_cache_in_the_sandboxs_schema(
    sandbox: Sandbox, test_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    with schema_context(sandbox.schema_name):
        assert kpis_warm.delay().get(timeout=60) is True

        def not_again(*args: Any) -> Any:
            raise AssertionError("computed again: the worker's result was not in the cache")

        monkeypatch.setattr(plant_selectors, "scenario_kpis", not_again)
        plant = plant_get()
        assert plant is not None
        kpis = plant_kpis(plant)
    assert "annual_fuel" in {kpi["key"] for kpi in kpis}


def test_provisioning_and_reset_send_the_warm_up_from_the_sandboxs_schema(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    sent_from: list[str] = []
    monkeypatch.setattr(kpis_warm, "delay", lambda: sent_from.append(connection.schema_name))  # type: ignore[attr-defined]

    with django_capture_on_commit_callbacks(execute=True):
        sandbox = sandbox_provision(email="warm@plant.example", product="thermalcommand", industry="steel").sandbox
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_reset(sandbox=sandbox)

    assert sent_from == [sandbox.schema_name, sandbox.schema_name]


def test_the_warm_up_of_a_sandbox_without_a_plant_does_nothing() -> None:
    sandbox = sandbox_provision(email="empty@plant.example", product="thermalcommand", industry="cement").sandbox
    with schema_context(sandbox.schema_name):
        Plant.objects.all().delete()

        assert kpis_warm.run() is False
