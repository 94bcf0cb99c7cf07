from celery import shared_task

from analytics.models import RescoreJob
from analytics.services.events import demos_abandoned_record
from analytics.services.leads import lead_sales_notify as lead_sales_notify_service
from analytics.services.rollups import rollups_refresh as rollups_refresh_service
from analytics.services.rules import rescore_run


@shared_task
def demos_abandoned() -> int:
    """Beat, every five minutes: record demo_abandoned for demos idle 30 minutes without completion."""
    return demos_abandoned_record()


@shared_task(autoretry_for=(OSError,), retry_backoff=5, max_retries=5)
def lead_sales_notify(lead_id: int, reasons: list[str]) -> int:
    """After commit: e-mail the Sales group about a new MQL or hand-raise (a mail server down: retried)."""
    return lead_sales_notify_service(lead_id=lead_id, reasons=reasons)


@shared_task(time_limit=30 * 60, soft_time_limit=29 * 60)
def rescore(job_id: int) -> str:
    """A rule set's preview or application over every lead (``analytics.services.rules.rescore_run``)."""
    job = rescore_run(job=RescoreJob.objects.select_related("rule_set").get(pk=job_id))
    return str(job.status)


@shared_task(time_limit=10 * 60, soft_time_limit=9 * 60)
def rollups_refresh() -> int:
    """Beat, every minute: the dashboards' rollups of the demos that had events since (docs/dashboards.md)."""
    return rollups_refresh_service()
