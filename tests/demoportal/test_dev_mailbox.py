"""The development mailbox (/dev/mailbox/) exists only under local settings: anywhere else it is not even
routed, whatever DEBUG and the e-mail backend say."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import clear_url_caches

from tests.demoportal.test_settings import PRODUCTION_ENV, manage
from tests.demoportal.test_signup import signup

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
# Prints whether the portal's URLs route /dev/mailbox/ under the settings the process was started with.
ROUTED = (
    "from django.urls import Resolver404, resolve\n"
    "try:\n"
    "    resolve('/dev/mailbox/', urlconf='demoportal.urls')\n"
    "    print('mailbox routed')\n"
    "except Resolver404:\n"
    "    print('mailbox not routed')\n"
)


def portal_urls_reload() -> None:
    importlib.reload(importlib.import_module("demoportal.urls"))
    clear_url_caches()


@pytest.fixture
def mailbox_on(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """The portal's URLs as local settings build them (DEV_MAILBOX on); yields the mail folder."""
    settings.DEV_MAILBOX = True
    settings.EMAIL_BACKEND = FILE_BACKEND
    settings.EMAIL_FILE_PATH = tmp_path
    portal_urls_reload()
    yield tmp_path
    settings.DEV_MAILBOX = False
    portal_urls_reload()


@pytest.mark.django_db
def test_the_dev_mailbox_shows_sent_mail_with_clickable_links(client: Client, mailbox_on: Path) -> None:
    signup(client)

    page = client.get("/dev/mailbox/", HTTP_HOST="localhost")

    assert page.status_code == 200
    links = re.findall(rb'href="(http://localhost/accounts/confirm-email/[^"]+)"', page.content)
    assert len(links) == 1
    confirmed = client.get(links[0].decode().removeprefix("http://localhost"), HTTP_HOST="localhost")
    assert confirmed.status_code in (200, 302)


@pytest.mark.django_db
def test_outside_local_settings_the_mailbox_is_404_even_with_debug_and_the_file_backend(
    client: Client, settings: Any, tmp_path: Path
) -> None:
    settings.DEBUG = True
    settings.EMAIL_BACKEND = FILE_BACKEND
    settings.EMAIL_FILE_PATH = tmp_path

    assert client.get("/dev/mailbox/", HTTP_HOST="localhost").status_code == 404


def test_production_settings_do_not_route_the_mailbox_even_with_debug_and_the_file_backend() -> None:
    result = manage("shell", "-c", ROUTED, **PRODUCTION_ENV, DJANGO_DEBUG="true", EMAIL_BACKEND=FILE_BACKEND)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "mailbox not routed"


def test_local_settings_route_the_mailbox() -> None:
    result = manage("shell", "-c", ROUTED, DJANGO_SETTINGS_MODULE="demoportal.settings.local")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "mailbox routed"
