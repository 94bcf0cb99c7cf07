"""Analytics records. What survives a sandbox's purge is kept here, anonymised."""

from __future__ import annotations

from django.db import models


class ArchivedSandbox(models.Model):
    """An ended sandbox's numbers, kept after its record is purged: no owner, no address, no slug.

    Enough for marketing's segment figures (which scenario, product and role; how long it lived; how
    much it was used) and for the sandbox totals of ``GET /api/v1/stats``.
    """

    industry = models.CharField(max_length=20)
    product = models.CharField(max_length=30, blank=True)
    role = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    end_status = models.CharField(max_length=12, help_text="expired or destroyed")
    extensions = models.PositiveIntegerField(default=0)
    resets = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    provisioning_ms = models.PositiveIntegerField(null=True, blank=True)
    archived_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ended_at"]
        verbose_name_plural = "archived sandboxes"

    def __str__(self) -> str:
        return f"{self.industry}/{self.product} ended {self.ended_at:%Y-%m-%d} ({self.end_status})"
