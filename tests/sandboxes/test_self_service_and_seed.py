"""The owner's self-service refuses an action it does not know; the seed migration takes each plant's seed."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django_tenants.utils import schema_context

from demoportal.core.exceptions import DomainError
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_self_service
from simulation.models import Plant

pytestmark = pytest.mark.django_db


def test_self_service_names_the_actions_it_knows(sandbox: Sandbox) -> None:
    with pytest.raises(DomainError, match="use one of extend, reset, end") as refused:
        sandbox_self_service(sandbox=sandbox, action="explode", actor=None)

    assert refused.value.status_code == 404


def test_the_seed_migration_copies_each_plants_seed_and_skips_a_schema_that_is_gone(sandbox: Sandbox) -> None:
    seeds_copy = importlib.import_module("sandboxes.migrations.0007_sandbox_seed").seeds_copy
    Sandbox.objects.filter(pk=sandbox.pk).update(seed=0)
    with schema_context(sandbox.schema_name):
        plant_seed = Plant.objects.get().seed
    # A row only (bulk_create skips the save that would make its schema): an ended sandbox's schema is gone.
    (gone,) = Sandbox.objects.bulk_create([Sandbox(schema_name="no_such_schema", slug="gone", name="Gone", seed=5)])

    seeds_copy(apps, SimpleNamespace(connection=connection))

    assert Sandbox.objects.get(pk=sandbox.pk).seed == plant_seed != 0
    assert Sandbox.objects.get(pk=gone.pk).seed == 5  # its schema is gone: left as it was
