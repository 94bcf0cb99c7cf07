from celery import shared_task

from simulation.selectors.plant import plant_get, plant_kpis


@shared_task
def kpis_warm() -> bool:
    """Compute the sandbox's KPIs into the cache. Sent from inside the sandbox's schema (the task runs
    there: tenant-schemas-celery) when it is made, claimed or reset. False when it has no plant (any more)."""
    plant = plant_get()
    if plant is None:
        return False
    plant_kpis(plant)
    return True
