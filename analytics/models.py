"""Analytics records. What survives a sandbox's purge is kept here, anonymised."""

from __future__ import annotations

from django.conf import settings
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


# What a prospect does, by name: the specification's catalogue, plus page views.
EVENT_NAMES = (
    "demo_started",
    "demo_completed",
    "demo_abandoned",
    "demo_extended",
    "feature_viewed",
    "feature_clicked",
    "dashboard_accessed",
    "report_generated",
    "alert_acknowledged",
    "savings_calculated",
    "optimization_applied",
    "anomaly_detected",
    "recommendation_viewed",
    "pricing_requested",
    "sales_contact_requested",
    "trial_extended",
    "poc_started",
    "page_view",
)


class Event(models.Model):
    """One thing a prospect did, recorded by the server (its own actions) or sent by the page's script.

    The rows stay when a sandbox's record is purged: ``sandbox`` is then emptied, so the event is kept
    without where it happened.
    """

    class Source(models.TextChoices):
        SERVER = "server"
        CLIENT = "client"

    name = models.CharField(max_length=40, choices=[(name, name) for name in EVENT_NAMES])
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    sandbox = models.ForeignKey(
        "sandboxes.Sandbox", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    # The partner the lead is attributed to: the sandbox's, or for an event outside a sandbox the user's.
    partner = models.ForeignKey(
        "demoportal.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    properties = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=6, choices=Source.choices)
    idempotency_key = models.CharField(
        max_length=100, blank=True, help_text="Sent by the client; a repeat returns the first event."
    )

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["user", "-occurred_at"]), models.Index(fields=["name", "-occurred_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="event_idempotency_key_once_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.occurred_at:%Y-%m-%d %H:%M}"
