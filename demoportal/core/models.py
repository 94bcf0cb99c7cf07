from __future__ import annotations

import re
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django_countries.fields import CountryField

domain_validator = RegexValidator(
    r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    "Enter a domain such as acme-engineering.com, without @ or www.",
    flags=re.IGNORECASE,
)


class Partner(models.Model):
    """A partner organisation (integrator, reseller, consultancy), managed by staff in the admin.

    Its users sign in like prospects but make sandboxes for their own training or for a customer; those
    sandboxes and the events in them carry the partner, and its users see the organisation's sandboxes
    and no one else's. A user whose verified e-mail address is at one of ``email_domains`` joins it
    when the address is confirmed. An inactive partner enrols no one and its users act as prospects.
    """

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    email_domains = ArrayField(
        models.CharField(max_length=253, validators=[domain_validator]),
        default=list,
        blank=True,
        help_text="Comma-separated. Users who verify an address at one of these join the partner.",
    )
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean_fields(self, exclude: Any = None) -> None:
        # "@Acme.com " means acme.com: normalised before the field's validators see it.
        self.email_domains = sorted({domain.strip().lower().removeprefix("@") for domain in self.email_domains})
        super().clean_fields(exclude)

    def clean(self) -> None:
        from demoportal.core.catalogue import is_personal_email

        errors = []
        for domain in self.email_domains:
            if is_personal_email(f"someone@{domain}"):
                errors.append(f"{domain} is a free-mail domain: everyone there would join this partner.")
            taken = Partner.objects.exclude(pk=self.pk).filter(email_domains__contains=[domain]).first()
            if taken is not None:
                errors.append(f"{domain} already belongs to {taken.name}.")
        if errors:
            raise ValidationError({"email_domains": errors})


class UserManager(DjangoUserManager["User"]):
    """Users sign in with their e-mail address; there is no username."""

    def _create_user_object(self, username: str | None, email: str | None, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email), **extra)
        user.password = ""
        user.set_password(password)
        return user

    def create_user(self, email: str | None = None, password: str | None = None, **extra: Any) -> User:  # type: ignore[override]
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        user = self._create_user_object(None, email, password, **extra)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str | None = None, password: str | None = None, **extra: Any) -> User:  # type: ignore[override]
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """Everyone who signs in: prospects, partner users, sales, marketing. Lives in the public schema."""

    class CompanySize(models.TextChoices):
        SMALL = "1-249", "Fewer than 250 employees"
        MEDIUM = "250-999", "250 to 999 employees"
        LARGE = "1000-4999", "1,000 to 4,999 employees"
        ENTERPRISE = "5000+", "5,000 employees or more"

    username = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)
    # The prospect's profile, asked for at sign-up (staff and API-created logins may leave it empty).
    company = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, blank=True, help_text="The role they chose at sign-up, from the catalogue.")
    phone = models.CharField(max_length=32, blank=True, help_text="International format, e.g. +44 20 7946 0958.")
    country = CountryField(blank=True)
    company_size = models.CharField(
        max_length=10,
        blank=True,
        choices=CompanySize.choices,
        help_text="Optional at sign-up; a pricing request fills it.",
    )
    contact_consent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When they agreed to be contacted: at sign-up (optional) or on a pricing, call or POC request.",
    )
    contact_consent_version = models.CharField(
        max_length=20, blank=True, help_text="Which version of the consent wording they agreed to."
    )
    personal_email = models.BooleanField(
        default=False, help_text="A free-mail address (gmail.com and the like): allowed, but scores lower."
    )
    # PROTECT: a partner with members cannot be deleted by accident, which would silently turn its
    # users into prospects (and their demos into leads); deactivate it instead.
    partner = models.ForeignKey(
        Partner,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        help_text="Set when a verified address matches the partner's domains, or by staff.",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        """How the person is listed: "Jane Doe". Sign-up asks for the name; an account made before it did (or a
        login created without one) is listed by its e-mail address."""
        return self.get_full_name() or self.email

    @property
    def greeting_name(self) -> str:
        """How a mail addresses the person: "Hello Jane"; by e-mail address only when no name was given."""
        return self.first_name.strip() or self.display_name

    @property
    def active_partner(self) -> Partner | None:
        """The partner organisation this user acts for, or None (a prospect, or an inactive partner's user)."""
        if self.partner_id is None:
            return None
        partner = self.partner
        return partner if partner is not None and partner.is_active else None
