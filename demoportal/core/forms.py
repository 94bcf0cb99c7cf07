"""Form fields the portal's pages share across apps: the consent to be contacted.

The consent is its own choice, never a condition of the demo: optional and unticked at sign-up, and asked
again, explicitly, on the calls to action that need a reply (pricing, a sales call, a proof of concept).
The wording is versioned: ``CONTACT_CONSENT_VERSION`` (settings) is stored with each consent, so change
both together.
"""

from __future__ import annotations

from django import forms

CONTACT_CONSENT_TEXT = (
    "I agree that the vendor may contact me by e-mail or phone about its products and this demo. "
    "I can withdraw this at any time."
)
CONTACT_CONSENT_OPTIONAL_HELP = "Optional: your demo works the same without it."
CONTACT_CONSENT_NEEDED_HELP = "Sales can only answer this request if you agree to be contacted."
CONTACT_CONSENT_NEEDED_ERROR = "Agree to be contacted, or sales cannot answer this request."


def contact_consent_field(*, required: bool) -> forms.BooleanField:
    """The consent checkbox, never ticked in advance. ``required``: on a call to action, which cannot be
    answered without contacting the person; at sign-up it is optional."""
    return forms.BooleanField(
        label=CONTACT_CONSENT_TEXT,
        required=required,
        initial=False,
        help_text=CONTACT_CONSENT_NEEDED_HELP if required else CONTACT_CONSENT_OPTIONAL_HELP,
        error_messages={"required": CONTACT_CONSENT_NEEDED_ERROR},
    )
