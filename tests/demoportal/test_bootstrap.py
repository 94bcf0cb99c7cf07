"""`manage.py bootstrap`: the public tenant, its domains and the demo logins, idempotently."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from crm.forms import slot_label
from crm.models import SalesCallSlot
from demoportal.core.models import User
from sandboxes.models import Domain, Sandbox

pytestmark = pytest.mark.django_db


def bootstrap(*args: str) -> str:
    out = io.StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


def printed_password(output: str) -> str:
    return next(line.split()[-1] for line in output.splitlines() if line.strip().startswith("password"))


def test_creates_the_portal_domains_once(settings: Any) -> None:
    settings.PORTAL_HOST = "portal.example.com"

    bootstrap()
    bootstrap()

    portal = Sandbox.objects.get(schema_name="public")
    hosts = set(Domain.objects.filter(tenant=portal).values_list("domain", flat=True))
    assert hosts == {"portal.example.com", "localhost", "127.0.0.1"}
    assert Sandbox.objects.filter(schema_name="public").count() == 1


def test_generates_a_password_prints_it_and_it_signs_in_to_the_admin(settings: Any, client: Client) -> None:
    settings.DEMO_ADMIN_PASSWORD = ""

    password = printed_password(bootstrap())

    assert len(password) >= 16
    assert client.login(email="admin@example.com", password=password)
    assert client.get("/admin/", HTTP_HOST="localhost").status_code == 200


def test_each_run_without_a_password_generates_a_different_one(settings: Any) -> None:
    settings.DEMO_ADMIN_PASSWORD = ""
    first = printed_password(bootstrap())
    User.objects.all().delete()

    second = printed_password(bootstrap())

    assert first != second


def test_password_from_the_environment_is_used(settings: Any) -> None:
    settings.DEMO_ADMIN_PASSWORD = "correct-horse-battery-staple"

    bootstrap()

    assert User.objects.get(email="admin@example.com").check_password("correct-horse-battery-staple")


def test_credentials_file_keeps_the_generated_password_for_the_next_run(settings: Any, tmp_path: Path) -> None:
    settings.DEMO_ADMIN_PASSWORD = ""
    credentials = tmp_path / "demo-logins.json"
    first = printed_password(bootstrap("--credentials-file", str(credentials)))

    second_output = bootstrap("--credentials-file", str(credentials))

    assert printed_password(second_output) == first
    assert json.loads(credentials.read_text()) == {"password": first}
    assert credentials.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert "created login" not in second_output


def test_without_credentials_file_a_second_run_does_not_print_a_wrong_password(settings: Any) -> None:
    settings.DEMO_ADMIN_PASSWORD = ""
    bootstrap()

    output = bootstrap()

    assert "as printed when the logins were created" in output


def test_demo_staff_users_join_their_groups(settings: Any) -> None:
    settings.DEMO_STAFF_USERS = True

    bootstrap()

    sales = User.objects.get(email="sales@example.com")
    marketing = User.objects.get(email="marketing@example.com")
    assert sales.is_staff
    assert not sales.is_superuser
    assert list(sales.groups.values_list("name", flat=True)) == ["Sales"]
    assert list(marketing.groups.values_list("name", flat=True)) == ["Marketing"]
    # Named, so prospects see who they book a call with, not an address.
    assert (sales.display_name, marketing.display_name) == ("Sam Rivera", "Mia Chen")
    slots = list(SalesCallSlot.objects.select_related("salesperson"))
    assert slots
    assert all(slot_label(slot).endswith(" · with Sam Rivera") for slot in slots)


def test_a_demo_staff_login_made_before_it_had_a_name_gets_it_and_a_name_staff_gave_stays(settings: Any) -> None:
    settings.DEMO_STAFF_USERS = True
    User.objects.create_user(email="sales@example.com", password="pw", is_staff=True)
    User.objects.create_user(email="marketing@example.com", password="pw", is_staff=True, first_name="Morgan")

    bootstrap()

    assert User.objects.get(email="sales@example.com").display_name == "Sam Rivera"
    assert User.objects.get(email="marketing@example.com").display_name == "Morgan"


def test_no_staff_users_unless_asked(settings: Any) -> None:
    settings.DEMO_STAFF_USERS = False

    bootstrap()

    assert list(User.objects.values_list("email", flat=True)) == ["admin@example.com"]


def test_migrate_flag_skips_migrate_schemas_when_every_schema_is_up_to_date(sandbox: Sandbox) -> None:
    output = bootstrap("--migrate")

    assert "migrations: every schema is up to date" in output
