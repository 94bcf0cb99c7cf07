"""The websocket route on a sandbox host, through the real Redis channel layer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from demoportal.asgi import application
from demoportal.core.models import User
from sandboxes.consumers import CLOSE_FORBIDDEN
from sandboxes.middleware import CLOSE_NOT_FOUND
from sandboxes.models import Sandbox
from sandboxes.tokens import access_token_issue
from tests.conftest import TEST_SANDBOX_SLUG

pytestmark = [pytest.mark.asyncio]
# What a consumer must read (a token, a session) is committed (``committed_db``), not in a test transaction:
# consumers read the database from threads of their own.


@pytest.fixture
def token(committed_db: None) -> str:
    """A fresh access token of the session's committed sandbox (the consumer reads it from another thread)."""
    return access_token_issue(sandbox=Sandbox.objects.get(slug=TEST_SANDBOX_SLUG))


def signed_in(email: str, *, is_staff: bool = False) -> Iterator[str]:
    """The session cookie of a new signed-in user; the user and the session are removed afterwards."""
    user = User.objects.create_user(email=email, password="pw", is_staff=is_staff)
    client = Client()
    client.force_login(user)
    yield client.cookies[settings.SESSION_COOKIE_NAME].value
    client.logout()
    user.delete()


@pytest.fixture
def stranger_session(committed_db: None) -> Iterator[str]:
    """A prospect who may not see the test sandbox."""
    yield from signed_in("stranger@plant.example")


@pytest.fixture
def staff_session(committed_db: None) -> Iterator[str]:
    """Staff, who may see every sandbox."""
    yield from signed_in("watcher@vendor.example", is_staff=True)


def communicator(host: str, query: str = "", cookie: str = "") -> WebsocketCommunicator:
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, f"/ws/ping/{query}", headers=headers)


@pytest.mark.parametrize("query", ["", "?token=not-this-sandboxes-token"])
async def test_ping_without_the_session_or_the_sandboxes_token_is_closed_with_4403(query: str, token: str) -> None:
    client = communicator("test-sandbox.localhost", query)
    connected, _ = await client.connect(timeout=10)
    assert connected  # so that the close code reaches the browser

    assert await client.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


async def test_ping_from_someone_who_may_not_see_the_sandbox_is_closed_with_4403(stranger_session: str) -> None:
    client = communicator("test-sandbox.localhost", cookie=stranger_session)
    await client.connect(timeout=10)

    assert await client.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


async def test_ping_on_a_sandbox_answers_pong_from_inside_its_schema(token: str) -> None:
    client = communicator("test-sandbox.localhost:8000", f"?token={token}")
    connected, _ = await client.connect(timeout=10)
    assert connected

    await client.send_json_to({"type": "ping"})
    reply = await client.receive_json_from(timeout=5)

    assert reply["type"] == "pong"
    assert reply["sandbox"] == "test-sandbox"
    assert reply["schema"] == "test_sandbox"  # what PostgreSQL's current_schema() said
    await client.disconnect()


async def test_ping_with_the_session_of_someone_who_may_see_the_sandbox_answers_pong(staff_session: str) -> None:
    client = communicator("test-sandbox.localhost", cookie=staff_session)
    connected, _ = await client.connect(timeout=10)
    assert connected

    await client.send_json_to({"type": "ping"})

    assert (await client.receive_json_from(timeout=5))["sandbox"] == "test-sandbox"
    await client.disconnect()


async def test_anything_but_a_ping_gets_an_error_message(token: str) -> None:
    client = communicator("test-sandbox.localhost", f"?token={token}")
    await client.connect(timeout=10)

    await client.send_json_to({"type": "hello"})

    assert (await client.receive_json_from(timeout=5))["type"] == "error"
    await client.disconnect()


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["no-such-sandbox.localhost", "localhost"])
async def test_websocket_to_a_host_that_is_no_sandbox_is_closed_with_4404(host: str) -> None:
    client = communicator(host)
    connected, _ = await client.connect(timeout=10)
    assert connected  # accepted so that the close code reaches the browser

    closed = await client.receive_output(timeout=5)

    assert closed == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}


@pytest.mark.django_db
async def test_websocket_from_a_foreign_origin_is_refused() -> None:
    client = WebsocketCommunicator(
        application, "/ws/ping/", headers=[(b"host", b"test-sandbox.localhost"), (b"origin", b"http://evil.example")]
    )
    connected, _ = await client.connect(timeout=10)

    assert not connected


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "status"), [("demo", "destroyed"), ("demo", "expired"), ("template", "ready")])
async def test_websocket_to_a_retired_sandbox_or_a_template_is_closed_with_4404(
    monkeypatch: pytest.MonkeyPatch, kind: str, status: str
) -> None:
    from sandboxes import middleware
    from sandboxes.models import Sandbox

    monkeypatch.setattr(middleware, "sandbox_for_host", lambda host: Sandbox(slug="gone", kind=kind, status=status))
    client = communicator("gone.localhost")
    await client.connect(timeout=10)

    assert await client.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}
