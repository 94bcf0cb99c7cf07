from celery import shared_task
from django.db import connection

from sandboxes.services import sandboxes_expire as expire_due


@shared_task
def sandbox_schema_report() -> dict[str, str]:
    """Which schema a worker runs a task in: Django's view and PostgreSQL's own ``current_schema()``.

    Operators send it from inside ``schema_context(...)`` to check that tasks reach the right sandbox.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        database_schema = cursor.fetchone()[0]
    return {"django": connection.schema_name, "database": database_schema}  # type: ignore[attr-defined]


@shared_task(acks_late=True)  # idempotent: an expired sandbox is not expired twice
def sandboxes_expire() -> int:
    """Beat, every minute: drop the schemas of sandboxes past their expiry; rows and audit trail stay."""
    return expire_due()
