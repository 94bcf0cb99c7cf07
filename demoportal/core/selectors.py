"""Reads of the base: which partner an address belongs to."""

from __future__ import annotations

from demoportal.core.models import Partner


def partner_for_email(*, email: str) -> Partner | None:
    """The active partner whose e-mail domains include ``email``'s domain (exact match), or None."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    partner: Partner | None = (
        Partner.objects.filter(is_active=True, email_domains__contains=[domain]).order_by("pk").first()
    )
    return partner
