from celery import shared_task

from analytics.services import demos_abandoned_record


@shared_task
def demos_abandoned() -> int:
    """Beat, every five minutes: record demo_abandoned for demos idle 30 minutes without completion."""
    return demos_abandoned_record()
