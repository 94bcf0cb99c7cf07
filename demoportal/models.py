from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django_countries.fields import CountryField


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

    username = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)
    # The prospect's profile, asked for at sign-up (staff and API-created logins may leave it empty).
    company = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, blank=True, help_text="executive, engineer, operator or consultant")
    phone = models.CharField(max_length=32, blank=True, help_text="International format, e.g. +44 20 7946 0958.")
    country = CountryField(blank=True)
    contact_consent_at = models.DateTimeField(
        null=True, blank=True, help_text="When they agreed to be contacted (sign-up)."
    )
    contact_consent_version = models.CharField(
        max_length=20, blank=True, help_text="Which wording they agreed to (CONTACT_CONSENT_VERSION)."
    )
    personal_email = models.BooleanField(
        default=False, help_text="A free-mail address (gmail.com and the like): allowed, but scores lower."
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()

    def __str__(self) -> str:
        return self.email
