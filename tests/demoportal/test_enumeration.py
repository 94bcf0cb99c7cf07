"""Nobody learns from the portal whether an address has an account: sign-up, password reset and sign-in
answer the same for a registered address and a new one, and only the address's owner hears the
difference, by mail (docs/architecture.md "Accounts: no address enumeration")."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from demoportal.core.models import User
from tests.demoportal.test_signup import VALID, signup

pytestmark = pytest.mark.django_db

REGISTERED = VALID["email"]
NEW = "someone.else@refinery.example"


@pytest.fixture
def registered(db: None) -> User:
    return User.objects.create_user(email=REGISTERED, password="Old-Password-2026", company="Original Co")


def test_signing_up_with_a_registered_address_looks_like_any_sign_up_and_mails_the_owner(registered: User) -> None:
    fresh = signup(Client(), email=NEW)
    mail.outbox.clear()

    again = signup(Client())

    assert (again.status_code, again["Location"]) == (fresh.status_code, fresh["Location"])
    assert User.objects.filter(email=REGISTERED).count() == 1
    registered.refresh_from_db()
    assert registered.company == "Original Co"  # nothing of the second sign-up was saved
    assert registered.check_password("Old-Password-2026")
    assert [(message.to, message.subject) for message in mail.outbox] == [
        ([REGISTERED], "Process Heat · You already have an account")
    ]
    assert "/accounts/password/reset/" in mail.outbox[0].body


def test_a_password_reset_answers_the_same_for_a_registered_and_an_unknown_address(registered: User) -> None:
    known = Client().post("/accounts/password/reset/", {"email": REGISTERED}, HTTP_HOST="localhost")
    unknown = Client().post("/accounts/password/reset/", {"email": NEW}, HTTP_HOST="localhost")

    assert (known.status_code, known["Location"]) == (302, "/accounts/password/reset/done/")
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    # Each mail goes to the address asked about, so only its owner learns whether it has an account.
    assert [(message.to, message.subject) for message in mail.outbox] == [
        ([REGISTERED], "Process Heat · Reset your password"),
        ([NEW], "Process Heat · No account for this address"),
    ]


def test_signing_in_with_a_wrong_password_says_the_same_as_with_an_unknown_address(registered: User) -> None:
    known = Client().post("/accounts/login/", {"login": REGISTERED, "password": "wrong"}, HTTP_HOST="localhost")
    unknown = Client().post("/accounts/login/", {"login": NEW, "password": "wrong"}, HTTP_HOST="localhost")

    assert known.status_code == unknown.status_code == 200
    assert known.context["form"].errors == unknown.context["form"].errors
    assert known.context["form"].errors  # refused, with one message for both
