from __future__ import annotations

from datetime import datetime

from django.core.validators import RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name

slug_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{1,40}[a-z0-9]$",
    "Lower-case letters, digits and hyphens; starts with a letter, 3 to 42 characters.",
)


class Sandbox(TenantMixin):
    """One prospect's isolated demo: a PostgreSQL schema, reached at <slug>.<DEMO_DOMAIN>.

    The row with schema ``public`` is the portal itself (django-tenants' public tenant), not a demo.
    """

    slug: models.SlugField[str, str] = models.SlugField(max_length=42, unique=True, validators=[slug_validator])
    name: models.CharField[str, str] = models.CharField(max_length=200)
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_portal(self) -> bool:
        return bool(self.schema_name == get_public_schema_name())


class Domain(DomainMixin):
    """A host name that routes to a sandbox (or, for the public tenant, to the portal)."""

    def __str__(self) -> str:
        return str(self.domain)
