"""The Celery app. tenant-schemas-celery carries the sender's schema to the worker with every task."""

from __future__ import annotations

import os
from typing import Any

from celery import bootsteps
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demoportal.settings.local")

app = CeleryApp("demoportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Writes this worker's heartbeat to Redis every HEARTBEAT_INTERVAL seconds, for /healthz."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.timer_ref: Any = None

    def start(self, worker: Any) -> None:
        from django.conf import settings

        from demoportal.core.health import heartbeat_write

        def beat() -> None:
            heartbeat_write("worker", worker.hostname)

        beat()
        self.timer_ref = worker.timer.call_repeatedly(settings.HEARTBEAT_INTERVAL, beat, priority=10)

    def stop(self, worker: Any) -> None:
        from demoportal.core.health import heartbeat_clear

        if self.timer_ref is not None:
            self.timer_ref.cancel()
        heartbeat_clear("worker", worker.hostname)


app.steps["worker"].add(WorkerHeartbeat)
