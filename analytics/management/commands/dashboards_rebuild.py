"""``manage.py dashboards_rebuild``: summarise every demo again from its events and recompute every day of the
dashboards' rollups (docs/dashboards.md) — after changing DASHBOARD_TIME_ZONE, or rows written around
``event_record``."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from analytics.services.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the dashboards' rollups from the events (after a change of DASHBOARD_TIME_ZONE)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        demos = rollups_rebuild()
        self.stdout.write(f"Rebuilt the rollups of {demos:,} demos in {time.monotonic() - started:.1f} s")
