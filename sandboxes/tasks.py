from celery import shared_task
from django.db import connection

from demoportal.core import catalogue
from sandboxes import services, usage


@shared_task
def sandbox_schema_report() -> dict[str, str]:
    """Which schema a worker runs a task in: Django's view and PostgreSQL's own ``current_schema()``.

    Operators send it from inside ``schema_context(...)`` to check that tasks reach the right sandbox.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        database_schema = cursor.fetchone()[0]
    return {"django": connection.schema_name, "database": database_schema}  # type: ignore[attr-defined]


# The sweeps are idempotent (an expired sandbox is not expired twice), so a task lost with its worker
# is simply run again: acks_late.


@shared_task(acks_late=True)
def sandboxes_expire() -> int:
    """Beat, every minute: drop the schemas of sandboxes past their expiry; rows and audit trail stay."""
    return services.sandboxes_expire()


@shared_task(acks_late=True)
def sandboxes_auto_reset() -> int:
    """Beat, every minute: reset sandboxes whose plant has run a day (those with the auto-reset policy)."""
    return services.sandboxes_auto_reset()


@shared_task(acks_late=True)
def sandboxes_purge() -> int:
    """Beat, hourly: purge records of sandboxes ended more than the retention ago, keeping anonymised numbers."""
    return services.sandboxes_purge()


@shared_task(acks_late=True)
def sandboxes_recover() -> int:
    """Beat, every minute: repair sandboxes a transition left half-way when its process died (a killed worker
    or web process): back to ready after an interrupted reset, the schema dropped after an interrupted end."""
    return services.sandboxes_recover()


@shared_task(acks_late=True)
def last_access_flush() -> int:
    """Beat, every minute: write the sandboxes' last access times from Redis to the database."""
    return usage.last_access_flush()


@shared_task(acks_late=True)
def pool_refill_task(industry: str) -> int:
    """Top one industry's warm pool up. Routed to the ``warmup`` queue, whose worker runs one task at a
    time so cloning never starves the default queue; one industry per task keeps a worker's warm
    shutdown short."""
    return services.pool_refill(industry=industry)


@shared_task
def pools_refill() -> None:
    """Beat, every minute: one refill task per industry (most find their pool full and return at once)."""
    for industry in catalogue.scenarios():
        pool_refill_task.delay(industry=industry)
