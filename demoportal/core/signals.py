"""allauth signals: a verified address at a partner's domain enrols its user in the partner."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed, user_signed_up
from django.dispatch import receiver
from django.http import HttpRequest

from demoportal.core.models import User
from demoportal.core.services import partner_enrol


@receiver(email_confirmed, dispatch_uid="demoportal.partner_on_email_confirmed")
def partner_on_email_confirmed(sender: Any, request: HttpRequest | None, email_address: EmailAddress, **_: Any) -> None:
    user = email_address.user
    assert isinstance(user, User)
    partner_enrol(user=user, email=email_address.email)


@receiver(user_signed_up, dispatch_uid="demoportal.partner_on_signed_up")
def partner_on_signed_up(sender: Any, request: HttpRequest | None, user: User, **_: Any) -> None:
    """A social sign-up (LinkedIn) arrives with an address the provider verified: no confirmation follows."""
    for address in EmailAddress.objects.filter(user=user, verified=True):
        if partner_enrol(user=user, email=address.email) is not None:
            return
