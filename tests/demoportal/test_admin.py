"""The user admin (demoportal/core/admin.py): a prospect's profile, their role by the catalogue's name."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from demoportal.core.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def prospect() -> User:
    return User.objects.create_user(
        email="ada@refinery.example",
        password="pw",
        company="Gulf Refining",
        job_title="Energy manager",
        role="engineer",
    )


def test_sales_read_a_prospects_profile_with_the_role_by_name(client: Client, prospect: User) -> None:
    salesperson = User.objects.create_user(email="s@vendor.example", password="pw", is_staff=True)
    salesperson.groups.add(Group.objects.get(name="Sales"))
    client.force_login(salesperson)

    page = client.get(f"/admin/demoportal/user/{prospect.pk}/change/", HTTP_HOST="localhost")

    assert page.status_code == 200
    assertContains(page, '<div class="readonly">Process engineer</div>', html=True)
    assertContains(page, '<div class="readonly">Gulf Refining</div>', html=True)
    assertNotContains(page, '<div class="readonly">engineer</div>', html=True)


def test_staff_who_may_change_a_user_choose_the_role_by_name(admin_client: Client, prospect: User) -> None:
    url = f"/admin/demoportal/user/{prospect.pk}/change/"
    page = admin_client.get(url, HTTP_HOST="localhost")

    assertContains(page, '<option value="engineer" selected>Process engineer</option>', html=True)
    assert page.context["adminform"].form.fields["role"].choices[0] == ("", "—")

    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update({"role": "operator", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", "country": ""})
    saved = admin_client.post(url, data, HTTP_HOST="localhost")
    refused = admin_client.post(url, {**data, "role": "wizard"}, HTTP_HOST="localhost")

    assert saved.status_code == 302, saved.context["adminform"].form.errors
    prospect.refresh_from_db()
    assert prospect.role == "operator"
    assert refused.status_code == 200
    assert "role" in refused.context["adminform"].form.errors
