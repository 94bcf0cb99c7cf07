"""Requests reach the portal or a sandbox by their Host header; anything else is a friendly 404."""

from __future__ import annotations

import pytest
from django.test import Client

from demoportal.core.models import User
from sandboxes.models import Sandbox

pytestmark = pytest.mark.django_db


def test_portal_host_serves_the_landing_page(client: Client) -> None:
    response = client.get("/", HTTP_HOST="localhost:8000")

    assert response.status_code == 200
    assert b"ThermalCommand" in response.content
    assert b"Demo Cement Works" in response.content


def test_loopback_address_is_the_portal_too(client: Client) -> None:
    assert client.get("/", HTTP_HOST="127.0.0.1:8000").status_code == 200


def test_sandbox_subdomain_serves_that_sandbox(client: Client, sandbox: Sandbox) -> None:
    client.force_login(User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True))

    response = client.get("/", HTTP_HOST=f"{sandbox.slug}.localhost:8000")

    assert response.status_code == 200
    assert sandbox.name.encode() in response.content
    assert response.wsgi_request.tenant == sandbox  # type: ignore[attr-defined]


@pytest.mark.parametrize("host", ["no-such-sandbox.localhost", "deeper.test-sandbox.localhost", "evil.example.com"])
def test_unknown_host_gets_a_friendly_404(client: Client, host: str) -> None:
    response = client.get("/", HTTP_HOST=host)

    assert response.status_code == 404
    assert b"There is no demo at this address" in response.content


def test_unknown_host_page_links_to_the_portal_and_gets_its_stylesheet(client: Client) -> None:
    page = client.get("/", HTTP_HOST="no-such-sandbox.localhost:8000")
    stylesheet = client.get("/static/css/portal.css", HTTP_HOST="no-such-sandbox.localhost:8000")

    assert b'href="http://localhost:8000/"' in page.content
    assert stylesheet.status_code == 200


def test_unknown_page_on_a_sandbox_is_a_404_page(client: Client, sandbox: Sandbox) -> None:
    response = client.get("/no-such-page/", HTTP_HOST=f"{sandbox.slug}.localhost")

    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_admin_is_only_on_the_portal_host(client: Client, sandbox: Sandbox) -> None:
    assert client.get("/admin/login/", HTTP_HOST="localhost").status_code == 200
    assert client.get("/admin/login/", HTTP_HOST=f"{sandbox.slug}.localhost").status_code == 404


def test_api_schema_is_served_on_the_portal(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_HOST="localhost")

    assert response.status_code == 200
    assert b"Demo Portal API" in response.content
