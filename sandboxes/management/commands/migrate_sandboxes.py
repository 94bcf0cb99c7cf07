"""``manage.py migrate_sandboxes``: django-tenants' ``migrate_schemas`` over the schemas that exist.

``migrate_schemas`` walks every tenant row, and stops at the first whose schema is gone: an ended
sandbox keeps its row (for the admin and the retention purge) but not its schema. This command takes
the same options (``--shared``, ``--tenant``, ``--executor=multiprocessing``, ``--schema``) and migrates
the public schema and every sandbox and template schema that exists.
"""

from __future__ import annotations

from typing import Any

from django_tenants.management.commands import SyncCommon
from django_tenants.management.commands.migrate_schemas import GET_EXECUTOR_FUNCTION, MigrateSchemasCommand
from django_tenants.utils import get_public_schema_name

from sandboxes.selectors import sandbox_schemas


class Command(MigrateSchemasCommand):
    help = "Migrate the public schema and every sandbox schema that exists (ended sandboxes have none)."

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("schema_name"):
            super().handle(*args, **options)  # one named schema: migrate_schemas checks that it exists
            return
        SyncCommon.handle(self, *args, **options)  # reads --shared / --tenant / --executor
        executor = GET_EXECUTOR_FUNCTION(codename=self.executor)(self.args, self.options)
        if self.sync_public:
            executor.run_migrations(tenants=[get_public_schema_name()])
        if self.sync_tenant:
            executor.run_migrations(tenants=sandbox_schemas())
