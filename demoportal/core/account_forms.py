"""allauth's forms, with a field sent twice refused as on every form of ours (ACCOUNT_FORMS in settings).

A module of its own: allauth's forms module imports ACCOUNT_SIGNUP_FORM_CLASS (demoportal.portal.forms.SignupForm,
already one of ours, so allauth's sign-up form refuses repeated fields too) when it is first imported.
"""

from __future__ import annotations

from allauth.account import forms as account_forms

from demoportal.core.webforms import SingleValueFieldsMixin


class LoginForm(SingleValueFieldsMixin, account_forms.LoginForm):
    pass


class AddEmailForm(SingleValueFieldsMixin, account_forms.AddEmailForm):
    pass


class ChangePasswordForm(SingleValueFieldsMixin, account_forms.ChangePasswordForm):
    pass


class SetPasswordForm(SingleValueFieldsMixin, account_forms.SetPasswordForm):
    pass


class ResetPasswordForm(SingleValueFieldsMixin, account_forms.ResetPasswordForm):
    pass


class ResetPasswordKeyForm(SingleValueFieldsMixin, account_forms.ResetPasswordKeyForm):
    pass


class ReauthenticateForm(SingleValueFieldsMixin, account_forms.ReauthenticateForm):
    pass
