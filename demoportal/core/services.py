"""Writes of the base: partner enrolment, the consent to be contacted."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from demoportal.core.exceptions import DomainError
from demoportal.core.forms import CONTACT_CONSENT_NEEDED_ERROR
from demoportal.core.models import Partner, User
from demoportal.core.selectors import partner_for_email

logger = logging.getLogger(__name__)


def contact_consent_record(*, user: User, now: datetime | None = None) -> User:
    """Store that ``user`` agreed to be contacted: the time and the version of the wording they were shown
    (``CONTACT_CONSENT_VERSION``). From then on they are scored as a lead and synced to the CRMs; before, never
    (``analytics.services.leads.is_scored``). A consent already given keeps its first time and version."""
    if user.contact_consent_at is not None:
        return user
    user.contact_consent_at = now or timezone.now()
    user.contact_consent_version = settings.CONTACT_CONSENT_VERSION
    user.save(update_fields=["contact_consent_at", "contact_consent_version"])
    return user


def contact_consent_require(*, user: User, given: bool, now: datetime | None = None) -> None:
    """For a request that can only be answered by contacting ``user`` (pricing, a sales call, a POC): record the
    consent ``given`` now, or refuse the request (a DomainError on ``contact_consent``) when they have none.
    Call it inside the request's transaction, before its event is recorded, so the event scores the new lead."""
    if user.contact_consent_at is not None:
        return
    if not given:
        raise DomainError(CONTACT_CONSENT_NEEDED_ERROR, errors={"contact_consent": [CONTACT_CONSENT_NEEDED_ERROR]})
    contact_consent_record(user=user, now=now)


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
