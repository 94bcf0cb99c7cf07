"""Getting into a sandbox: its own API token (hashed, one sandbox only) and the one-time hand-off link."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import pool_refill, sandbox_create, sandbox_end, sandbox_provision
from sandboxes.signals import demo_started
from sandboxes.tokens import access_token_issue, sandbox_for_token, token_hash

pytestmark = pytest.mark.django_db


def create(staff: APIClient, email: str, industry: str = "cement") -> dict[str, Any]:
    body = {"email": email, "product": "emissionsguardian", "industry": industry}
    response = staff.post("/api/v1/sandboxes", body, format="json")
    assert response.status_code == 201
    return dict(response.json())


def bearer(token: str) -> APIClient:
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_the_token_is_shown_once_and_stored_hashed(staff: APIClient) -> None:
    created = create(staff, "a@plant.example")
    sandbox = Sandbox.objects.get(pk=created["sandbox_id"])

    assert sandbox.access_token_hash == token_hash(created["access_token"])
    assert created["access_token"] not in sandbox.access_token_hash
    again = staff.post(
        "/api/v1/sandboxes",
        {"email": "a@plant.example", "product": "emissionsguardian", "industry": "cement"},
        format="json",
    )
    assert again.json()["access_token"] is None


def test_the_token_is_issued_with_the_sandbox_and_only_for_a_new_one() -> None:
    made = sandbox_provision(email="e@plant.example", product="emissionsguardian", industry="cement")
    again = sandbox_provision(email="e@plant.example", product="emissionsguardian", industry="cement")

    assert made.created
    assert made.access_token is not None
    assert sandbox_for_token(made.access_token) == made.sandbox
    assert (again.sandbox, again.created, again.access_token) == (made.sandbox, False, None)


@pytest.fixture
def demo_start_fails() -> Iterator[list[str]]:
    """A receiver of ``demo_started`` that fails, as analytics' would if it could not record the demo; it notes
    the token hash the sandbox carries by then (sent after the token is issued, in the same transaction)."""
    seen: list[str] = []

    def fail(sender: Any, sandbox: Sandbox, **kwargs: Any) -> None:
        seen.append(sandbox.access_token_hash)
        raise RuntimeError("analytics is down")

    demo_started.connect(fail, dispatch_uid="test.demo_start_fails")
    yield seen
    demo_started.disconnect(dispatch_uid="test.demo_start_fails")


def test_a_failure_after_the_token_was_issued_leaves_no_token_behind(
    staff: APIClient, demo_start_fails: list[str]
) -> None:
    with pytest.raises(RuntimeError, match="analytics is down"):
        staff.post("/api/v1/sandboxes", {"email": "f@plant.example", "product": "thermalcommand", "industry": "cement"})

    [issued] = demo_start_fails
    assert issued  # the token existed when the failure came
    assert not Sandbox.objects.filter(access_token_hash=issued).exists()
    assert not Sandbox.objects.filter(owner__email="f@plant.example").exists()


def test_a_claim_from_the_pool_that_fails_leaves_the_clone_pooled_without_a_token(
    settings: Any, demo_start_fails: list[str]
) -> None:
    settings.SANDBOX_POOL_SIZE = 1
    assert pool_refill(industry="steel") == 1
    waiting = Sandbox.objects.get(kind=Sandbox.Kind.DEMO, status=Sandbox.Status.POOLED, industry="steel")

    with pytest.raises(RuntimeError, match="analytics is down"):
        sandbox_provision(email="g@plant.example", product="thermalcommand", industry="steel")

    [issued] = demo_start_fails
    waiting.refresh_from_db()
    assert issued
    assert (waiting.status, waiting.owner, waiting.access_token_hash) == (Sandbox.Status.POOLED, None, "")


def test_a_sandbox_token_reaches_its_own_sandbox_and_nothing_else(staff: APIClient) -> None:
    a = create(staff, "a@plant.example")
    b = create(staff, "b@plant.example", industry="steel")
    token_a = bearer(a["access_token"])

    assert token_a.get(f"/api/v1/sandboxes/{a['sandbox_id']}").status_code == 200
    assert token_a.get(f"/api/v1/sandboxes/{a['sandbox_id']}/assets").status_code == 200
    for path in ("", "/assets", "/sensors", "/alarms", "/kpis"):
        assert token_a.get(f"/api/v1/sandboxes/{b['sandbox_id']}{path}").status_code == 404, path
    assert token_a.post(f"/api/v1/sandboxes/{b['sandbox_id']}/reset").status_code == 404
    assert token_a.delete(f"/api/v1/sandboxes/{b['sandbox_id']}").status_code == 404
    assert token_a.get("/api/v1/sandboxes").status_code == 403  # the staff list


def test_an_unknown_or_retired_token_is_refused(staff: APIClient) -> None:
    created = create(staff, "c@plant.example")
    assert bearer("not-a-token").get(f"/api/v1/sandboxes/{created['sandbox_id']}").status_code == 401

    sandbox_end(sandbox=Sandbox.objects.get(pk=created["sandbox_id"]))

    assert bearer(created["access_token"]).get(f"/api/v1/sandboxes/{created['sandbox_id']}").status_code == 401


def test_the_access_url_signs_the_owner_in_on_the_sandbox_host_once(staff: APIClient, client: Client) -> None:
    created = create(staff, "d@plant.example")
    host = created["url"].split("//")[1].rstrip("/")
    path = created["access_url"].split(host, 1)[1]

    first = client.get(path, HTTP_HOST=host)
    assert first.status_code == 302
    assert first["Location"] == "/"
    assert client.session["_auth_user_id"] == str(User.objects.get(email="d@plant.example").pk)

    second = Client().get(path, HTTP_HOST=host)
    assert second.status_code == 403
    assert b"already been used or has expired" in second.content


def test_a_link_for_one_sandbox_does_not_open_another(staff: APIClient, client: Client) -> None:
    a = create(staff, "e@plant.example")
    b = create(staff, "f@plant.example", industry="steel")
    token = a["access_url"].rsplit("/enter/", 1)[1]
    host_b = b["url"].split("//")[1].rstrip("/")

    assert client.get(f"/enter/{token}", HTTP_HOST=host_b).status_code == 403
    assert client.get("/enter/forged-token", HTTP_HOST=host_b).status_code == 403
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("method", ["delete", "put", "patch", "post"])
def test_the_demo_plant_cannot_be_changed_through_the_api(staff: APIClient, method: str) -> None:
    created = create(staff, "g@plant.example")
    own = bearer(created["access_token"])
    other = create(staff, "h@plant.example", industry="steel")

    for path in ("assets", "sensors", "events"):
        refused = getattr(own, method)(f"/api/v1/sandboxes/{created['sandbox_id']}/{path}")
        assert refused.status_code == 403
        assert "This is a demo plant" in refused.json()["detail"]
        # Someone else's sandbox stays invisible, whatever the method.
        assert getattr(own, method)(f"/api/v1/sandboxes/{other['sandbox_id']}/{path}").status_code == 404
    assert own.get(f"/api/v1/sandboxes/{created['sandbox_id']}/assets").status_code == 200


def test_the_company_is_kept_on_the_prospects_profile(staff: APIClient) -> None:
    body = {"email": "i@plant.example", "product": "thermalcommand", "industry": "steel", "company": "Iron Works"}
    assert staff.post("/api/v1/sandboxes", body, format="json").status_code == 201

    assert User.objects.get(email="i@plant.example").company == "Iron Works"


def test_a_prospect_session_gets_404_on_everything_of_another_prospects_sandbox(staff: APIClient) -> None:
    mine = create(staff, "mine@plant.example")
    theirs = create(staff, "theirs@plant.example", industry="steel")
    session = APIClient(HTTP_HOST="localhost")
    session.force_login(User.objects.get(email="mine@plant.example"))
    sensor = bearer(theirs["access_token"]).get(f"/api/v1/sandboxes/{theirs['sandbox_id']}/sensors").json()[0]["id"]
    own = f"/api/v1/sandboxes/{mine['sandbox_id']}"
    other = f"/api/v1/sandboxes/{theirs['sandbox_id']}"

    assert session.get(f"{own}/assets").status_code == 200  # the owner sees their plant with their session
    reads = ["", "/assets", "/sensors", f"/sensors/{sensor}/series", "/alarms", "/kpis"]
    for path in reads:
        assert session.get(f"{other}{path}").status_code == 404, path
    assert session.post(f"{other}/reset").status_code == 404
    assert session.post(f"{other}/extend", {"hours": 1}, format="json").status_code == 404
    assert session.delete(other).status_code == 404
    assert Sandbox.objects.get(pk=theirs["sandbox_id"]).status == "ready"


def test_a_sandbox_token_cannot_make_a_sandbox_or_get_a_link_that_signs_its_owner_in(staff: APIClient) -> None:
    created = create(staff, "owner@plant.example")
    token = bearer(created["access_token"])
    owned_before = Sandbox.objects.filter(owner__email="owner@plant.example").count()

    for product in ("emissionsguardian", "thermalcommand"):  # the owner's existing product, and a new one
        body = {"email": "owner@plant.example", "product": product, "industry": "cement"}
        refused = token.post("/api/v1/sandboxes", body, format="json")
        assert refused.status_code == 403, refused.content
        assert "access_url" not in refused.json()
    assert Sandbox.objects.filter(owner__email="owner@plant.example").count() == owned_before


def test_a_sandbox_token_of_a_staff_owner_reaches_nothing_of_the_portal(staff: APIClient) -> None:
    owner = User.objects.create_user(email="ae2@vendor.example", password="pw", is_staff=True)
    sandbox = sandbox_create(slug="staff-owned", name="Staff's", scenario="cement", owner=owner)
    other = create(staff, "p@plant.example")
    token = bearer(access_token_issue(sandbox=sandbox))

    assert token.get(f"/api/v1/sandboxes/{sandbox.pk}").status_code == 200  # its own sandbox
    assert token.get("/api/v1/stats").status_code == 403  # staff's totals: not the token's
    assert token.get("/api/v1/sandboxes").status_code == 403
    assert token.get(f"/api/v1/sandboxes/{other['sandbox_id']}").status_code == 404  # staff's owner sees all


def test_a_sandbox_token_does_not_reach_another_sandbox_of_the_same_owner(staff: APIClient) -> None:
    first = create(staff, "two@plant.example")
    body = {"email": "two@plant.example", "product": "thermalcommand", "industry": "steel"}
    second = staff.post("/api/v1/sandboxes", body, format="json").json()
    token = bearer(first["access_token"])

    assert token.get(f"/api/v1/sandboxes/{second['sandbox_id']}").status_code == 404
    host = second["url"].split("//")[1].rstrip("/")
    on_second_host = APIClient(HTTP_HOST=host)
    on_second_host.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access_token']}")
    assert on_second_host.get("/api/v1/tour").status_code == 404  # the owner's tour there: not this token's
    sent = on_second_host.post("/api/v1/events", {"event": "page_view"}, format="json")
    assert sent.status_code == 404


def test_during_a_reset_the_token_gets_409_not_401(staff: APIClient) -> None:
    created = create(staff, "resetting@plant.example")
    Sandbox.objects.filter(pk=created["sandbox_id"]).update(status=Sandbox.Status.RESETTING)
    token = bearer(created["access_token"])
    url = f"/api/v1/sandboxes/{created['sandbox_id']}"

    again = token.post(f"{url}/reset")
    assert again.status_code == 409, again.content
    assert again.json()["errors"] == {"status": ["resetting"]}
    assert token.get(f"{url}/assets").status_code == 409
    assert token.get(url).json()["status"] == "resetting"
