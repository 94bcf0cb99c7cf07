"""Writes of the base: partner enrolment."""

from __future__ import annotations

import logging

from demoportal.core.models import Partner, User
from demoportal.core.selectors import partner_for_email

logger = logging.getLogger(__name__)


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
