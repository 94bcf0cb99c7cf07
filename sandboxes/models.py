from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import connection, models
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists

from demoportal.core import catalogue
from sandboxes.schemas import schema_clone

slug_validator = RegexValidator(
    r"^[a-z][a-z0-9_-]{1,60}[a-z0-9]$",
    "Lower-case letters, digits, hyphens and underscores; starts with a letter, 3 to 62 characters.",
)


class Sandbox(TenantMixin):
    """One prospect's isolated demo: a PostgreSQL schema, reached at <slug>.<DEMO_DOMAIN>.

    Three kinds share this table (django-tenants has one tenant model): the ``portal`` (schema
    ``public``), one ``template`` per scenario (a migrated schema holding the scenario's plant, cloned
    for every new sandbox; no domain) and the ``demo`` sandboxes prospects use.
    """

    class Kind(models.TextChoices):
        PORTAL = "portal"
        TEMPLATE = "template"
        DEMO = "demo"

    class Purpose(models.TextChoices):
        EVALUATION = "evaluation", "Own evaluation"
        TRAINING = "training", "Partner training"
        CUSTOMER_DEMO = "customer_demo", "Customer demo"

    class Status(models.TextChoices):
        PROVISIONING = "provisioning"
        POOLED = "pooled"  # a ready clone in the warm pool, waiting to be claimed by a prospect
        READY = "ready"
        RESETTING = "resetting"
        EXPIRED = "expired"
        DESTROYED = "destroyed"
        FAILED = "failed"

    slug: models.SlugField[str, str] = models.SlugField(max_length=62, unique=True, validators=[slug_validator])
    name: models.CharField[str, str] = models.CharField(max_length=200)
    kind: models.CharField[str, str] = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DEMO)
    status: models.CharField[str, str] = models.CharField(max_length=12, choices=Status.choices, default=Status.READY)
    failure_reason: models.TextField[str, str] = models.TextField(blank=True)
    industry: models.CharField[str, str] = models.CharField(max_length=20, blank=True, help_text="Scenario key.")
    product: models.CharField[str, str] = models.CharField(max_length=30, blank=True)
    role: models.CharField[str, str] = models.CharField(max_length=20, blank=True)
    owner: models.ForeignKey[Any, Any] = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sandboxes"
    )
    # A partner user's sandbox carries the partner (kept if the user later leaves it) and why it was made.
    partner: models.ForeignKey[Any, Any] = models.ForeignKey(
        "demoportal.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="sandboxes"
    )
    purpose: models.CharField[str, str] = models.CharField(
        max_length=15, choices=Purpose.choices, default=Purpose.EVALUATION
    )
    customer_company: models.CharField[str, str] = models.CharField(
        max_length=200, blank=True, help_text="The customer a partner's demo is for."
    )
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now_add=True)
    # Typed by hand: the tenant model's base class is untyped, so the stubs cannot infer these.
    ready_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(null=True, blank=True)
    expires_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(null=True, blank=True)
    extensions: models.PositiveIntegerField[int, int] = models.PositiveIntegerField(default=0)
    extension_notice: models.CharField[str, str] = models.CharField(
        max_length=120, blank=True, help_text="What the prospect's sandbox bar says of the last extension staff gave."
    )
    provisioning_ms: models.PositiveIntegerField[int | None, int | None] = models.PositiveIntegerField(
        null=True, blank=True
    )
    last_accessed_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )
    auto_reset: models.BooleanField[bool, bool] = models.BooleanField(
        default=True,
        help_text="Reset to the scenario's start automatically after a day of running (the period is set for the "
        "whole portal; 24 hours unless changed).",
    )
    reset_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True, help_text="When the plant last started: ready, claimed or reset."
    )
    ended_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it expired or was ended. Its record is deleted after the portal's retention period (7 days "
        "unless changed).",
    )
    seed: models.IntegerField[int, int] = models.IntegerField(
        default=0, help_text="Its plant's random story: drawn when it is made or claimed, kept across resets."
    )
    access_token_hash: models.CharField[str, str] = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="SHA-256 of the sandbox's API token; the token is shown once.",
    )

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "sandboxes"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["portal", "template", "demo"]), name="sandbox_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["provisioning", "pooled", "ready", "resetting", "expired", "destroyed", "failed"]
                ),
                name="sandbox_status_known",
            ),
            models.UniqueConstraint(
                fields=["industry"], condition=models.Q(kind="template"), name="one_template_per_scenario"
            ),
            models.CheckConstraint(
                condition=models.Q(purpose__in=["evaluation", "training", "customer_demo"]),
                name="sandbox_purpose_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(purpose="customer_demo", customer_company=""),
                name="sandbox_customer_demo_names_the_customer",
            ),
            # One active demo per prospect and product, even when two requests race.
            models.UniqueConstraint(
                fields=["owner", "product"],
                condition=models.Q(kind="demo", status__in=["provisioning", "ready", "resetting"]),
                name="one_active_sandbox_per_owner_and_product",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def product_name(self) -> str:
        """The product's name ("EmissionsGuardian"), as the catalogue has it."""
        return catalogue.product_name(self.product)

    @property
    def time_left_text(self) -> str:
        """The time left before it expires as the sandbox bar counts it down (``static/js/sandbox.js``), so the
        page does not change its wording, nor its length, when the script takes over: "23 h 05 min",
        "42 min 07 s", "No time"; "" without an expiry."""
        if self.expires_at is None:
            return ""
        left = max(0, int((self.expires_at - timezone.now()).total_seconds()))
        hours, minutes, seconds = left // 3600, left % 3600 // 60, left % 60
        if left == 0:
            return "No time"
        return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {seconds:02d} s"

    @property
    def has_ended(self) -> bool:
        """Expired or destroyed: the schema is gone, the record stays until the retention purge."""
        return self.status in ENDED_STATUSES

    def get_base_schema(self) -> str | bool:
        """A demo sandbox is cloned from its scenario's template; a template is migrated from scratch."""
        if self.kind != self.Kind.DEMO:
            return False
        return template_schema_name(self.industry)

    def create_schema(self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1) -> Any:
        """A demo sandbox's schema is a copy of its template (``sandboxes.schemas.schema_clone``, which
        says why not django-tenants' clone function); templates are migrated by django-tenants. No
        migrations run: the copy carries the template's django_migrations rows."""
        base = self.get_base_schema()
        if not (sync_schema and isinstance(base, str) and schema_exists(base)):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        schema_clone(source=base, target=self.schema_name)
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        return True


ACTIVE_STATUSES = (Sandbox.Status.PROVISIONING, Sandbox.Status.READY, Sandbox.Status.RESETTING)
ENDED_STATUSES = (Sandbox.Status.EXPIRED, Sandbox.Status.DESTROYED)


def template_schema_name(industry: str) -> str:
    return f"template_{industry}"


class Domain(DomainMixin):
    """A host name that routes to a sandbox (or, for the public tenant, to the portal)."""

    def __str__(self) -> str:
        return str(self.domain)


class SandboxAuditEntry(models.Model):
    """Who did what to a sandbox, when, and how long it took. Kept after the sandbox's schema is gone."""

    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="audit_entries")
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=254, blank=True, help_text="The actor's e-mail, or 'system'.")
    at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        action = self.action.replace("_", " ")
        return f"{action} ({self.from_status} → {self.to_status}) by {self.actor_label or 'system'}"
