"""What a prospect asks sales for from their sandbox: pricing, a proof of concept, a call (public schema).

The rows outlive the sandbox they came from: ``sandbox`` is emptied when its record is purged, and the
product and industry are copied at the time of the request so sales still know what the prospect saw.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

from demoportal.core import catalogue


class CtaRequest(models.Model):
    """Who asked, from which sandbox, about which product; whether sales have dealt with it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sandbox = models.ForeignKey("sandboxes.Sandbox", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    product = models.CharField(max_length=30, blank=True, help_text="The sandbox's product when asked.")
    industry = models.CharField(max_length=20, blank=True, help_text="The sandbox's scenario when asked.")
    message = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    handled = models.BooleanField(default=False, help_text="Sales have followed this up.")

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    @property
    def requester(self) -> str:
        """Who asked, by name: "Jane Doe, Northwind" (their e-mail when they gave no name)."""
        name = self.user.display_name
        return f"{name}, {self.user.company}" if self.user.company else name

    @property
    def product_name(self) -> str:
        return catalogue.product_name(self.product) or "a product"


class PricingRequest(CtaRequest):
    class CompanySize(models.TextChoices):
        SMALL = "1-249", "Fewer than 250 employees"
        MEDIUM = "250-999", "250 to 999 employees"
        LARGE = "1000-4999", "1,000 to 4,999 employees"
        ENTERPRISE = "5000+", "5,000 employees or more"

    class Timeframe(models.TextChoices):
        NOW = "0-3m", "Within 3 months"
        SOON = "3-6m", "In 3 to 6 months"
        LATER = "6-12m", "In 6 to 12 months"
        EXPLORING = "exploring", "Just exploring"

    company_size = models.CharField(max_length=10, choices=CompanySize.choices)
    sites = models.PositiveIntegerField(help_text="Number of sites the product would cover.")
    timeframe = models.CharField(max_length=10, choices=Timeframe.choices)

    class Meta(CtaRequest.Meta):
        constraints = [
            models.CheckConstraint(condition=models.Q(sites__gte=1), name="pricing_request_sites_positive"),
        ]

    def __str__(self) -> str:
        return f"Pricing for {self.product_name} ({self.requester})"


class PocRequest(CtaRequest):
    class Objective(models.TextChoices):
        FUEL = "fuel", "Cut fuel cost"
        EMISSIONS = "emissions", "Cut CO2 / stay within emission permits"
        RELIABILITY = "reliability", "Avoid trips and equipment damage"
        HEAT_RECOVERY = "heat_recovery", "Find heat-recovery projects"
        VISIBILITY = "visibility", "One view of energy across sites"

    sites = models.PositiveIntegerField(help_text="Sites in the proof of concept.")
    objective = models.CharField(max_length=20, choices=Objective.choices)
    start_month = models.DateField(help_text="First day of the month the prospect wants to start.")

    class Meta(CtaRequest.Meta):
        verbose_name = "POC request"
        constraints = [
            models.CheckConstraint(condition=models.Q(sites__gte=1), name="poc_request_sites_positive"),
            models.CheckConstraint(condition=models.Q(start_month__day=1), name="poc_request_start_first_of_month"),
        ]

    def __str__(self) -> str:
        return f"POC of {self.product_name} from {self.start_month:%b %Y} ({self.requester})"


class SalesCallSlot(models.Model):
    """A time a salesperson offers for a call, defined in the admin. Stored in UTC and shown in UTC."""

    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=30)
    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sales_call_slots",
        limit_choices_to={"is_staff": True},
    )
    meeting_link = models.URLField(blank=True, help_text="Video-call address, sent with the invitation.")

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["salesperson", "starts_at"], name="sales_call_slot_once_per_salesperson"),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5, duration_minutes__lte=240),
                name="sales_call_slot_duration_5_to_240",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%a %d %b %Y %H:%M} UTC, {self.duration_minutes} min"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


class SalesCallBooking(CtaRequest):
    """A prospect's booking of a slot. The one-to-one key makes a second booking of a slot impossible,
    whatever two requests do at the same moment."""

    slot = models.OneToOneField(SalesCallSlot, on_delete=models.PROTECT, related_name="booking")
    confirmation_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the invitation went to the prospect and the salesperson."
    )

    def __str__(self) -> str:
        return f"Call with {self.requester}: {self.slot}"


class Crm(models.TextChoices):
    SALESFORCE = "salesforce", "Salesforce"
    HUBSPOT = "hubspot", "HubSpot"


class CrmSync(models.Model):
    """One delivery of a lead to one CRM: the outbox row a trigger writes in its own transaction, and then the
    log of what became of it (``crm/sync/outbox.py``, ``docs/crm.md``).

    Triggers for a lead that arrive while its row still waits are added to that row (coalesced): the worker
    delivers the lead's state as it is at delivery, once. A lead has at most one waiting row per CRM (a partial
    unique constraint) and is delivered by one worker at a time (``claimed_until``)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERING = "delivering", "Delivering"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed, will retry"
        DEAD = "dead", "Dead: retry by hand"
        SUPERSEDED = "superseded", "Superseded by a newer sync"  # its triggers went to the lead's newer row

    WAITING = (State.PENDING, State.FAILED)  # rows a trigger adds to, and the worker takes

    lead = models.ForeignKey("analytics.Lead", on_delete=models.CASCADE, related_name="crm_syncs")
    crm = models.CharField(max_length=12, choices=Crm.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    triggers = models.JSONField(default=list, help_text='What asked for it: [{"name": "pricing_requested", "at": …}].')
    created_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField(help_text="Not delivered before this (backoff after a failure).")
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is delivering it until then; after that, the sweep takes it back."
    )
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True, help_text="The last attempt's CRM call.")
    record_id = models.CharField(max_length=64, blank=True, help_text="The CRM's id of the lead or contact.")
    record_url = models.URLField(max_length=400, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "CRM sync"
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "crm"], condition=models.Q(state__in=["pending", "failed"]), name="crm_sync_one_waiting"
            ),
        ]
        indexes = [
            models.Index(
                fields=["crm", "due_at"], condition=models.Q(state__in=["pending", "failed"]), name="crm_sync_due"
            ),
            models.Index(fields=["state", "crm"], name="crm_sync_state"),
        ]

    def __str__(self) -> str:
        return f"{self.get_crm_display()} sync of lead {self.lead_id} ({self.get_state_display()})"

    @property
    def trigger_names(self) -> list[str]:
        return list(dict.fromkeys(t["name"] for t in self.triggers))


class CrmRecord(models.Model):
    """Where a lead lives in a CRM: its record id and its activities' ids, passed back on every delivery so an
    update never creates a second record."""

    lead = models.ForeignKey("analytics.Lead", on_delete=models.CASCADE, related_name="crm_records")
    crm = models.CharField(max_length=12, choices=Crm.choices)
    record_id = models.CharField(max_length=64)
    record_url = models.URLField(max_length=400, blank=True)
    activity_ids = models.JSONField(default=dict, help_text="Our activity key → the CRM's id (Task, note).")
    synced_at = models.DateTimeField()

    class Meta:
        verbose_name = "CRM record"
        constraints = [models.UniqueConstraint(fields=["lead", "crm"], name="crm_record_once")]

    def __str__(self) -> str:
        return f"{self.get_crm_display()} {self.record_id}"


class CrmStatus(models.Model):
    """Each CRM's health as the worker last saw it: the last success and error, and its API allowance used."""

    crm = models.CharField(max_length=12, choices=Crm.choices, unique=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    api_used = models.PositiveIntegerField(null=True, blank=True)
    api_limit = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "CRM status"
        verbose_name_plural = "CRM status"

    def __str__(self) -> str:
        return self.get_crm_display()
