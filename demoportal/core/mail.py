"""What every mail the portal sends shares (allauth's account mail gets the same through its adapter)."""

from __future__ import annotations

from django.conf import settings


def mail_subject(text: str) -> str:
    """``text`` as a subject of the portal's mail: the brand first ("Process Heat · Your call with Jane Seller"),
    one line."""
    return settings.MAIL_SUBJECT_PREFIX + " ".join(text.split())
