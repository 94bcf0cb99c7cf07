"""The websocket route on a sandbox host, through the real Redis channel layer."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from demoportal.asgi import application
from sandboxes.middleware import CLOSE_NOT_FOUND

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]


def communicator(host: str) -> WebsocketCommunicator:
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    return WebsocketCommunicator(application, "/ws/ping/", headers=headers)


async def test_ping_on_a_sandbox_answers_pong_from_inside_its_schema() -> None:
    client = communicator("test-sandbox.localhost:8000")
    connected, _ = await client.connect(timeout=10)
    assert connected

    await client.send_json_to({"type": "ping"})
    reply = await client.receive_json_from(timeout=5)

    assert reply["type"] == "pong"
    assert reply["sandbox"] == "test-sandbox"
    assert reply["schema"] == "test_sandbox"  # what PostgreSQL's current_schema() said
    await client.disconnect()


async def test_anything_but_a_ping_gets_an_error_message() -> None:
    client = communicator("test-sandbox.localhost")
    await client.connect(timeout=10)

    await client.send_json_to({"type": "hello"})

    assert (await client.receive_json_from(timeout=5))["type"] == "error"
    await client.disconnect()


@pytest.mark.parametrize("host", ["no-such-sandbox.localhost", "localhost"])
async def test_websocket_to_a_host_that_is_no_sandbox_is_closed_with_4404(host: str) -> None:
    client = communicator(host)
    connected, _ = await client.connect(timeout=10)
    assert connected  # accepted so that the close code reaches the browser

    closed = await client.receive_output(timeout=5)

    assert closed == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}


async def test_websocket_from_a_foreign_origin_is_refused() -> None:
    client = WebsocketCommunicator(
        application, "/ws/ping/", headers=[(b"host", b"test-sandbox.localhost"), (b"origin", b"http://evil.example")]
    )
    connected, _ = await client.connect(timeout=10)

    assert not connected


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
