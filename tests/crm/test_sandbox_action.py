"""The sandbox header's extend / reset / end (a minimal sandbox:action the layout needs; merged with main's)."""

from __future__ import annotations

from django.test import Client

from sandboxes.models import Sandbox


def test_extend_adds_a_day_and_comes_back_home(member: Client, own_sandbox: Sandbox) -> None:
    before = own_sandbox.expires_at
    assert before is not None

    response = member.post("/sandbox/extend")

    assert (response.status_code, response["Location"]) == (302, "/")
    own_sandbox.refresh_from_db()
    assert own_sandbox.expires_at is not None
    assert (own_sandbox.expires_at - before).total_seconds() == 24 * 3600


def test_an_action_needs_a_post_and_an_unknown_one_is_404(member: Client, own_sandbox: Sandbox) -> None:
    assert member.get("/sandbox/extend").status_code == 405
    assert member.post("/sandbox/explode").status_code == 404


def test_a_refused_action_is_explained(member: Client, own_sandbox: Sandbox) -> None:
    Sandbox.objects.filter(pk=own_sandbox.pk).update(status="resetting")

    response = member.post("/sandbox/reset")

    assert response.status_code == 302
    own_sandbox.refresh_from_db()
    assert own_sandbox.status == "resetting"


def test_someone_elses_sandbox_cannot_be_ended(client: Client, own_sandbox: Sandbox) -> None:
    from demoportal.models import User

    client.force_login(User.objects.create_user(email="nosy@rival.example", password="pw"))

    assert client.post("/sandbox/end", HTTP_HOST="test-sandbox.localhost").status_code == 404
    own_sandbox.refresh_from_db()
    assert own_sandbox.status == "ready"
