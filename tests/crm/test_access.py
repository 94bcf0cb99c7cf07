"""The calls to action are on every sandbox page, and only for the sandbox's owner or staff."""

from __future__ import annotations

import pytest
from django.test import Client

from crm.models import PricingRequest
from demoportal.core.models import User
from sandboxes.models import Sandbox
from tests.crm.conftest import HOST

CTA_PAGES = ["/contact/pricing/", "/contact/poc/", "/contact/call/", "/materials/", "/materials/thermalcommand.pdf"]


@pytest.mark.parametrize("url", ["/contact/pricing/", "/contact/poc/", "/contact/call/", "/materials/"])
def test_every_sandbox_page_shows_the_four_calls_to_action(member: Client, url: str) -> None:
    page = member.get(url)

    assert page.status_code == 200
    assert b'class="cta-band"' in page.content
    for link in (b"/contact/pricing/", b"/contact/call/", b"/materials/", b"/contact/poc/"):
        assert link in page.content


def test_the_calls_to_action_come_back_to_the_page_they_were_followed_from(member: Client) -> None:
    page = member.get("/materials/")

    assert b'href="/contact/pricing/?next=/materials/"' in page.content


@pytest.mark.parametrize("url", CTA_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, own_sandbox: Sandbox, url: str) -> None:
    response = client.get(url, HTTP_HOST=HOST)

    assert response.status_code == 302
    assert response["Location"].startswith("http://localhost/accounts/login/")


@pytest.mark.parametrize("url", [*CTA_PAGES, "/materials/report.pdf"])
def test_someone_elses_sandbox_is_404(client: Client, own_sandbox: Sandbox, url: str) -> None:
    client.force_login(User.objects.create_user(email="nosy@rival.example", password="pw"))

    assert client.get(url, HTTP_HOST=HOST).status_code == 404
    assert (
        client.post(url, {"company_size": "1-249", "sites": 1, "timeframe": "0-3m"}, HTTP_HOST=HOST).status_code == 404
    )
    assert not PricingRequest.objects.exists()


def test_staff_may_open_them(client: Client, own_sandbox: Sandbox) -> None:
    client.force_login(User.objects.create_user(email="ae@vendor.example", password="pw", is_staff=True))

    assert client.get("/contact/pricing/", HTTP_HOST=HOST).status_code == 200


def test_a_post_without_the_csrf_token_is_refused(own_sandbox: Sandbox, prospect: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(prospect)

    response = client.post(
        "/contact/pricing/", {"company_size": "1-249", "sites": 1, "timeframe": "0-3m"}, HTTP_HOST=HOST
    )

    assert response.status_code == 403
    assert not PricingRequest.objects.exists()
