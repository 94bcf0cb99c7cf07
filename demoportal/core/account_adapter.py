"""allauth's adapter (ACCOUNT_ADAPTER): the portal's brand in account mail, and where a verified prospect lands.

- Mail: the subject prefix is ``ACCOUNT_EMAIL_SUBJECT_PREFIX`` (the brand, never allauth's "[<host>] "), the
  sender ``DEFAULT_FROM_EMAIL`` (with its display name), and the templates in ``templates/account/email/`` get
  ``brand_name`` and ``portal_name`` to sign with instead of the request's host.
- After verifying their address a prospect goes to demo selection: straight there when the link signs them in
  or they are signed in already (``ACCOUNT_SIGNUP_REDIRECT_URL``,
  ``ACCOUNT_EMAIL_CONFIRMATION_AUTHENTICATED_REDIRECT_URL``), through the sign-in page when they opened the link
  in another browser (below).
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode

from demoportal.core.models import User


def user_display(user: User) -> str:
    """ACCOUNT_USER_DISPLAY: how allauth's pages and mails name someone ("Jane Doe")."""
    return user.display_name


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        branded = {"brand_name": settings.BRAND_NAME, "portal_name": settings.PORTAL_NAME, **context}
        super().send_mail(template_prefix, email, branded)

    def get_email_verification_redirect_url(self, email_address: EmailAddress) -> str:
        if self.request.user.is_authenticated:
            return str(super().get_email_verification_redirect_url(email_address))
        # The link was opened where they are not signed in: sign in, then choose the demo.
        return f"{reverse('account_login')}?{urlencode({'next': reverse('portal:demo-new')})}"
