from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from sandboxes.models import Sandbox
from sandboxes.selectors import sandbox_for_host, schemas_with_pending_migrations

pytestmark = pytest.mark.django_db


def test_no_schema_has_pending_migrations_after_set_up(sandbox: Sandbox) -> None:
    assert schemas_with_pending_migrations() == []


def test_a_sandbox_missing_a_migration_is_reported(sandbox: Sandbox) -> None:
    with schema_context(sandbox.schema_name), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'contenttypes' AND name = '0002_remove_content_type_name'"
        )

    assert schemas_with_pending_migrations() == [sandbox.schema_name]


def test_the_public_schema_missing_a_migration_is_reported(sandbox: Sandbox) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'demoportal' AND name = '0002_staff_groups'")

    assert schemas_with_pending_migrations() == ["public"]


def test_sandbox_for_host_finds_sandboxes_and_the_portal(sandbox: Sandbox) -> None:
    assert sandbox_for_host("test-sandbox.localhost") == sandbox
    assert sandbox_for_host("localhost").schema_name == "public"  # type: ignore[union-attr]
    assert sandbox_for_host("nope.localhost") is None


def test_sandbox_for_host_reads_the_public_schema_even_from_inside_a_sandbox(sandbox: Sandbox) -> None:
    with schema_context(sandbox.schema_name):
        assert sandbox_for_host("test-sandbox.localhost") == sandbox
