"""Writes of the base: partner enrolment."""

from __future__ import annotations

import logging

from demoportal.core.models import Partner, User

logger = logging.getLogger(__name__)


def partner_for_email(*, email: str) -> Partner | None:
    """The active partner whose e-mail domains include ``email``'s domain (exact match), or None."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    partner: Partner | None = (
        Partner.objects.filter(is_active=True, email_domains__contains=[domain]).order_by("pk").first()
    )
    return partner


def partner_enrol(*, user: User, email: str) -> Partner | None:
    """Attach ``user`` to the active partner whose domains include the verified address ``email``.

    Called once the address is verified (allauth's ``email_confirmed``, or a sign-up whose address the
    provider already verified). A user who already belongs to a partner keeps it: staff may have set it
    by hand. Returns the user's partner afterwards.
    """
    if user.partner_id is not None:
        return user.partner
    partner = partner_for_email(email=email)
    if partner is None:
        return None
    user.partner = partner
    user.save(update_fields=["partner"])
    logger.info("%s joined partner %s (verified address %s)", user.pk, partner.slug, email)
    return partner
