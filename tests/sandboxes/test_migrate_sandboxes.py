"""`migrate_sandboxes`: migrations over every schema that exists, past ended sandboxes' rows."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from sandboxes.selectors import sandbox_schemas, schemas_with_pending_migrations
from sandboxes.services import sandbox_end, sandbox_provision

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended() -> str:
    sandbox = sandbox_provision(email="ended@plant.example", product="thermalcommand", industry="cement").sandbox
    sandbox_end(sandbox=sandbox)
    return str(sandbox.schema_name)


def test_an_ended_sandbox_has_no_schema_to_migrate_and_is_not_pending(ended: str) -> None:
    assert ended not in sandbox_schemas()
    assert "template_cement" in sandbox_schemas()
    assert ended not in schemas_with_pending_migrations()


def test_migrating_every_sandbox_passes_an_ended_one(ended: str) -> None:
    # Why the command exists: django-tenants' own stops at the ended sandbox (in a savepoint, so the test goes on).
    with connection.cursor() as cursor, cursor.connection.transaction(), pytest.raises(Exception, match="no schema"):
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)

    call_command("migrate_sandboxes", tenant=True, interactive=False, verbosity=0)

    assert schemas_with_pending_migrations() == []
