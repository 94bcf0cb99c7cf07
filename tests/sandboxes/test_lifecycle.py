"""Sandbox lifecycle services: provision by clone, reset, extend, destroy, expire — each audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from sandboxes.models import Domain, Sandbox
from sandboxes.services import (
    sandbox_create,
    sandbox_end,
    sandbox_extend,
    sandbox_reset,
    sandboxes_expire,
)
from simulation.models import InjectedAnomaly, Plant, Sensor
from simulation.selectors.plant import plant_get

pytestmark = pytest.mark.django_db


def schema_shape(schema: str) -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = %s"
            " ORDER BY table_name, column_name",
            [schema],
        )
        return list(cursor.fetchall())


def schema_objects(schema: str) -> dict[str, list[tuple[str, ...]]]:
    """Indexes, constraints and sequences by name and definition, with the schema's own name taken out:
    a later migration finds each one by name in every clone."""

    def rows(sql: str) -> list[tuple[str, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, [schema])
            return sorted(tuple(str(v).replace(f"{schema}.", "<schema>.") for v in row) for row in cursor.fetchall())

    return {
        "indexes": rows("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s"),
        "constraints": rows(
            "SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid) FROM pg_constraint k"
            " JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = k.connamespace"
            " WHERE n.nspname = %s"
        ),
        "sequences": rows("SELECT sequencename, data_type, increment_by FROM pg_sequences WHERE schemaname = %s"),
        "other objects": rows(
            "SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind NOT IN ('r', 'i', 'S')"
        ),
    }


def applied_migrations(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')  # noqa: S608 - our own schema name
        return set(cursor.fetchall())


def test_a_new_sandbox_is_a_ready_clone_of_its_scenario_template() -> None:
    sandbox = sandbox_create(slug="acme-cement", name="Acme cement", scenario="cement", product="thermalcommand")

    assert sandbox.status == Sandbox.Status.READY
    assert sandbox.expires_at is not None
    assert sandbox.expires_at - sandbox.ready_at == timedelta(hours=24)  # type: ignore[operator]
    assert sandbox.provisioning_ms is not None
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        assert plant is not None
        assert (plant.scenario, plant.name) == ("cement", "Demo Cement Works")
        assert plant.seed != 0  # its own seed, not the template's
        assert Sensor.objects.count() == 24
    entry = sandbox.audit_entries.get()
    assert (entry.action, entry.from_status, entry.to_status, entry.actor_label) == (
        "provision",
        "provisioning",
        "ready",
        "system",
    )


def test_a_clone_equals_a_freshly_migrated_and_loaded_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    cloned = sandbox_create(slug="cloned-one", name="Cloned", scenario="steel")
    monkeypatch.setattr(Sandbox, "get_base_schema", lambda self: False)  # no template: migrate from scratch
    migrated = sandbox_create(slug="migrated-one", name="Migrated", scenario="steel")

    assert schema_shape(cloned.schema_name) == schema_shape(migrated.schema_name)
    assert schema_objects(cloned.schema_name) == schema_objects(migrated.schema_name)
    assert applied_migrations(cloned.schema_name) == applied_migrations(migrated.schema_name)
    for sandbox in (cloned, migrated):
        with schema_context(sandbox.schema_name):
            assert (Plant.objects.count(), Sensor.objects.count()) == (1, 107)


def test_a_failure_mid_provisioning_leaves_no_schema_and_no_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(**kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("simulation.receivers.plant_start", fail)

    with pytest.raises(RuntimeError, match="disk full"):
        sandbox_create(slug="doomed-one", name="Doomed", scenario="cement")

    assert not Sandbox.objects.filter(slug="doomed-one").exists()
    assert not Domain.objects.filter(domain__startswith="doomed-one.").exists()
    assert not schema_exists("doomed_one")


def test_unknown_industry_is_refused_before_anything_is_made() -> None:
    with pytest.raises(DomainError) as error:
        sandbox_create(slug="nowhere-one", name="Nowhere", scenario="shipbuilding")

    assert "industry" in error.value.errors
    assert not schema_exists("nowhere_one")


def test_reset_brings_the_plant_back_to_its_start_and_keeps_the_address() -> None:
    sandbox = sandbox_create(slug="reset-me", name="Reset me", scenario="cement")
    with schema_context(sandbox.schema_name):
        kiln = plant_get().assets.get(tag="K-101")  # type: ignore[union-attr]
        InjectedAnomaly.objects.create(asset=kiln, type="excess_air", starts_at=timezone.now())
        seed = plant_get().seed  # type: ignore[union-attr]

    sandbox_reset(sandbox=sandbox)

    sandbox.refresh_from_db()
    assert sandbox.status == Sandbox.Status.READY
    assert Domain.objects.get(tenant=sandbox).domain == "reset-me.localhost"
    with schema_context(sandbox.schema_name):
        assert InjectedAnomaly.objects.count() == 0  # what people changed is gone
        assert plant_get().seed == seed  # type: ignore[union-attr]  # the same plant
    assert sandbox.audit_entries.filter(action="reset", from_status="ready", to_status="ready").exists()


def test_a_reset_while_another_runs_gets_409() -> None:
    sandbox = sandbox_create(slug="busy-one", name="Busy", scenario="cement")
    Sandbox.objects.filter(pk=sandbox.pk).update(status=Sandbox.Status.RESETTING)  # the other reset

    with pytest.raises(DomainError) as error:
        sandbox_reset(sandbox=sandbox)

    assert error.value.status_code == 409
    assert error.value.errors == {"status": ["resetting"]}


@pytest.mark.parametrize("hours", [0, 169, -5])
def test_extend_refuses_hours_outside_1_to_168(hours: int) -> None:
    sandbox = sandbox_create(slug="extend-bad", name="Extend", scenario="cement")

    with pytest.raises(DomainError) as error:
        sandbox_extend(sandbox=sandbox, hours=hours)

    assert error.value.errors == {"hours": ["Must be between 1 and 168."]}


def test_a_prospect_extends_up_to_seven_days_from_creation() -> None:
    sandbox = sandbox_create(slug="extend-me", name="Extend", scenario="cement")
    before = sandbox.expires_at

    sandbox_extend(sandbox=sandbox, hours=24)
    assert sandbox.expires_at == before + timedelta(hours=24)  # type: ignore[operator]
    assert sandbox.extensions == 1

    with pytest.raises(DomainError, match="at most 7 days") as error:
        sandbox_extend(sandbox=sandbox, hours=168)
    assert error.value.errors["hours"][0].startswith("At most 119 more hours")


def test_staff_may_extend_to_thirty_days_with_a_reason() -> None:
    staff = User.objects.create_user(email="ae@vendor.example", password="pw", is_staff=True)
    sandbox = sandbox_create(slug="extend-staff", name="Extend", scenario="cement")

    with pytest.raises(DomainError, match="need a reason"):
        sandbox_extend(sandbox=sandbox, hours=168, actor=staff)
    for _ in range(3):
        sandbox_extend(sandbox=sandbox, hours=168, actor=staff, reason="POC with the plant manager")

    assert sandbox.extensions == 3
    entry = sandbox.audit_entries.filter(action="extend").first()
    assert entry is not None
    assert (entry.actor_label, entry.detail["reason"]) == ("ae@vendor.example", "POC with the plant manager")


def test_destroy_drops_the_schema_keeps_the_row_and_the_host_answers_410(client: Client) -> None:
    sandbox = sandbox_create(slug="bye-one", name="Bye", scenario="cement")

    sandbox_end(sandbox=sandbox)

    sandbox.refresh_from_db()
    assert sandbox.status == Sandbox.Status.DESTROYED
    assert not schema_exists("bye_one")
    response = client.get("/", HTTP_HOST="bye-one.localhost:8000")
    assert response.status_code == 410
    assert b"This demo has ended" in response.content
    assert b'href="http://localhost:8000/"' in response.content
    with pytest.raises(DomainError) as error:
        sandbox_reset(sandbox=sandbox)
    assert error.value.status_code == 409


def test_the_expiry_sweep_expires_only_what_is_due() -> None:
    due = sandbox_create(slug="due-one", name="Due", scenario="cement")
    fresh = sandbox_create(slug="fresh-one", name="Fresh", scenario="cement")
    Sandbox.objects.filter(pk=due.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert sandboxes_expire() == 1

    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (due.status, fresh.status) == (Sandbox.Status.EXPIRED, Sandbox.Status.READY)
    assert not schema_exists("due_one")
    assert schema_exists("fresh_one")
    assert due.audit_entries.filter(action="expired", actor_label="system").exists()
    assert sandboxes_expire() == 0  # idempotent


def test_a_clone_continues_the_templates_id_sequences() -> None:
    # The copied rows keep their ids; a new row must get the next id, not collide with a copied one.
    sandbox = sandbox_create(slug="sequenced-one", name="Sequenced", scenario="cement")

    with schema_context(sandbox.schema_name):
        copied = set(Sensor.objects.values_list("pk", flat=True))
        kiln = Sensor.objects.earliest("pk").asset
        added = Sensor.objects.create(
            asset=kiln,
            index=9999,
            key="extra",
            tag="TI-999",
            kind="temperature",
            name="Extra",
            unit="degC",
            normal_low=0,
            normal_high=1,
            parameters={},
        )

    assert added.pk == max(copied) + 1
