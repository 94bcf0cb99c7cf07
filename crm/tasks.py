from celery import shared_task

from crm.sync.outbox import syncs_deliver, syncs_sweep


@shared_task
def syncs_deliver_task(crm: str) -> int:
    """After a trigger commits, and from the sweep: deliver ``crm``'s due sync rows (``crm/sync/outbox.py``)."""
    return syncs_deliver(crm=crm)


@shared_task
def syncs_sweep_task() -> dict[str, int]:
    """Beat, every 30 s: take back rows of a worker that died mid-delivery, queue deliveries of rows due."""
    return syncs_sweep()
