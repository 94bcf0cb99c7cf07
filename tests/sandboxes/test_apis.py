"""REST API v1 for sandboxes: every endpoint, its errors, and who may see what."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from demoportal.core.models import User
from sandboxes.models import Sandbox

pytestmark = pytest.mark.django_db

NEW = {"email": "engineer@refinery.example", "product": "thermalcommand", "industry": "cement", "role": "engineer"}


def prospect(email: str) -> APIClient:
    client = APIClient(HTTP_HOST="localhost")
    user = User.objects.filter(email=email).first() or User.objects.create_user(email=email, password="pw")
    client.force_authenticate(user)
    return client


def errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    return dict(response.json()["errors"])


def test_staff_creates_a_ready_sandbox_and_a_login_for_the_prospect(staff: APIClient) -> None:
    response = staff.post("/api/v1/sandboxes", NEW, format="json")

    body = response.json()
    assert response.status_code == 201
    assert (body["status"], body["industry"], body["product"], body["role"]) == (
        "ready",
        "cement",
        "thermalcommand",
        "engineer",
    )
    assert body["url"].startswith("http://cement-")
    assert body["url"].endswith(".localhost/")
    assert body["credentials"]["username"] == "engineer@refinery.example"
    password = body["credentials"]["temporary_password"]
    assert User.objects.get(email="engineer@refinery.example").check_password(password)
    assert Sandbox.objects.get(pk=body["sandbox_id"]).owner.email == "engineer@refinery.example"


def test_a_second_request_for_the_same_product_returns_the_same_sandbox(staff: APIClient) -> None:
    first = staff.post("/api/v1/sandboxes", NEW, format="json").json()

    again = staff.post("/api/v1/sandboxes", NEW, format="json")

    assert again.status_code == 200
    assert again.json()["sandbox_id"] == first["sandbox_id"]
    assert again.json()["credentials"]["temporary_password"] is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "product",
            "heatmaster",
            "'heatmaster' is not one of: boileroptimizer, emissionsguardian, thermalcommand, wasteheatrecovery.",
        ),
        ("industry", "mining", "'mining' is not one of: cement, chemicals, food_beverage, oil_gas, steel."),
        ("role", "ceo", "'ceo' is not one of: consultant, engineer, executive, operator."),
        ("email", "not-an-address", "Enter a valid email address."),
    ],
)
def test_bad_input_names_the_field_and_the_allowed_values(
    staff: APIClient, field: str, value: str, message: str
) -> None:
    assert errors(staff.post("/api/v1/sandboxes", {**NEW, field: value}, format="json"))[field] == [message]
    assert not Sandbox.objects.filter(kind="demo", industry="cement").exists()


def test_a_prospect_may_only_ask_for_their_own_address() -> None:
    client = prospect("me@plant.example")

    assert client.post("/api/v1/sandboxes", {**NEW, "email": "me@plant.example"}, format="json").status_code == 201
    assert errors(client.post("/api/v1/sandboxes", NEW, format="json")) == {
        "email": ["You can only request a sandbox for your own e-mail address."]
    }


def test_at_the_active_limit_new_sandboxes_get_503_with_retry_after(staff: APIClient, settings: Any) -> None:
    settings.MAX_ACTIVE_SANDBOXES = Sandbox.objects.filter(kind="demo", status="ready").count()

    response = staff.post("/api/v1/sandboxes", NEW, format="json")

    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    assert "try again" in response.json()["detail"]


def test_owner_and_staff_see_a_sandbox_others_get_404(staff: APIClient) -> None:
    created = (
        prospect("owner@plant.example")
        .post("/api/v1/sandboxes", {**NEW, "email": "owner@plant.example"}, format="json")
        .json()
    )
    url = f"/api/v1/sandboxes/{created['sandbox_id']}"

    assert prospect("owner@plant.example").get(url).status_code == 200
    assert staff.get(url).json()["status"] == "ready"
    assert prospect("rival@other.example").get(url).status_code == 404
    assert prospect("rival@other.example").post(f"{url}/reset").status_code == 404
    assert staff.get("/api/v1/sandboxes/999999").status_code == 404


def test_reset_extend_and_destroy(staff: APIClient, client: Client) -> None:
    created = staff.post("/api/v1/sandboxes", NEW, format="json").json()
    url = f"/api/v1/sandboxes/{created['sandbox_id']}"

    assert staff.post(f"{url}/reset").json()["status"] == "ready"
    extended = staff.post(f"{url}/extend", {"hours": 24, "reason": "call on Friday"}, format="json")
    assert extended.status_code == 200
    assert extended.json()["expires_at"] > created["expires_at"]
    assert "hours" in errors(staff.post(f"{url}/extend", {"hours": 500}, format="json"))

    assert staff.delete(url).status_code == 204
    host = created["url"].split("//")[1].rstrip("/")
    assert client.get("/", HTTP_HOST=host).status_code == 410
    conflict = staff.post(f"{url}/reset")
    assert conflict.status_code == 409
    assert conflict.json()["errors"] == {"status": ["destroyed"]}


def test_staff_list_with_filters_and_pagination(staff: APIClient) -> None:
    staff.post("/api/v1/sandboxes", NEW, format="json")
    staff.post("/api/v1/sandboxes", {**NEW, "industry": "steel", "product": "boileroptimizer"}, format="json")

    everything = staff.get("/api/v1/sandboxes").json()
    steel = staff.get("/api/v1/sandboxes", {"industry": "steel"}).json()

    assert set(everything) == {"count", "next", "previous", "results"}
    assert everything["count"] >= 2
    assert [s["industry"] for s in steel["results"]] == ["steel"]
    assert "status" in errors(staff.get("/api/v1/sandboxes", {"status": "sleeping"}))
    assert prospect("nosy@plant.example").get("/api/v1/sandboxes").status_code == 403


def test_anonymous_requests_are_refused() -> None:
    assert APIClient(HTTP_HOST="localhost").post("/api/v1/sandboxes", NEW, format="json").status_code in (401, 403)
