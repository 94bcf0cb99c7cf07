"""The isolation matrix: every endpoint, page and websocket that takes a sandbox, called for sandbox B with
another sandbox's credentials, must refuse, and with B's own must not.

The routes are read from the URL confs (``demoportal/urls.py`` on the portal host,
``demoportal/urls_sandbox.py`` on a sandbox's host) and from the websocket routes of
``demoportal/asgi.py``, so a new endpoint is in the matrix without editing this file; a route whose
parameter this file has no value for fails the test, naming it.

Callers of B:
- ``token A``: sandbox A's token (another owner's sandbox);
- ``token C``: sandbox C's token, where C and B have the same owner (a token is its sandbox's, not its owner's);
- ``session A``: A's owner signed in;
- ``nobody``: no credentials.
Each must get 401, 403, 404 or a redirect to a sign-in page (websockets: closed with 4403 or 4404), never
a 2xx, never a 5xx, never a body naming B. B's own token, B's owner's session (staff for the admin)
must get through, so that the test can fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

from demoportal import asgi
from demoportal.core.models import User
from sandboxes.access import handoff_token, sandbox_host
from sandboxes.consumers import CLOSE_FORBIDDEN
from sandboxes.middleware import CLOSE_NOT_FOUND
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_create
from sandboxes.tokens import access_token_issue

pytestmark = pytest.mark.django_db

PORTAL = "localhost"
ATTACKERS = ("token A", "token C", "session A", "nobody")
# Not in the matrix, with the reason. A name here that no longer exists fails the test.
NOT_SANDBOX_DATA = {
    "sandbox:sign-out": "ends the caller's own session on the host, whoever they are; shows nothing of the sandbox",
    "api-schema": "the host's OpenAPI document: the same for every sandbox host, naming no sandbox's data",
    "api-docs": "Swagger UI for that document: static, the same for every sandbox host",
    "api-unknown": "whatever under /api/v1/ no route matches: 401 or 404 for everyone, names nothing",
}
# Routes B's own caller may not use either (the attackers are still tried), with the reason.
OFF_FOR_EVERYONE = {
    "admin:sandboxes_sandbox_delete": "deleting a sandbox's record is off (has_delete_permission): destroy keeps it",
}
# Values for the URL parameters that are not one sandbox's own (those come from B, in ``World.params``).
ACTIONS = {"sandbox:action": ["extend", "reset", "end"], "portal:my-sandbox": ["enter", "extend", "reset", "end"]}
METHODS = ("GET", "POST")
API_WRITE_METHODS = ("PUT", "PATCH", "DELETE")
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")  # <converter:name> in a route
SIGN_IN = re.compile(r"/(accounts|admin)/login/")


@dataclass
class Route:
    """One URL pattern: the host it is served on, its route (``api/v1/sandboxes/<int:sandbox_id>``), name."""

    host: str  # "portal" or "sandbox"
    route: str
    name: str
    callback: Callable[..., HttpResponse]

    @property
    def params(self) -> list[str]:
        return [name for _, name in PARAMETER.findall(self.route)]

    @property
    def api_view(self) -> type[APIView] | None:
        view = getattr(self.callback, "cls", None)
        return view if isinstance(view, type) and issubclass(view, APIView) else None

    @property
    def methods(self) -> tuple[str, ...]:
        view = self.api_view
        if view is None:
            return METHODS
        own = tuple(
            method.upper() for method in view.http_method_names if hasattr(view, method) and method != "options"
        )
        return own + tuple(method for method in API_WRITE_METHODS if method not in own)  # writes it does not offer


def url_routes(urlconf: str, host: str) -> list[Route]:
    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Route]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}{pattern.name}" if pattern.name else prefix + str(pattern.pattern)
                yield Route(host, prefix + str(pattern.pattern), name, pattern.callback)

    return list(walk(get_resolver(urlconf).url_patterns, "", ""))


def takes_a_sandbox(route: Route) -> bool:
    """Everything on a sandbox's host; on the portal, what names a sandbox: its id in the URL, the admin's
    sandbox pages, and ``POST /api/v1/events`` (its body names the sandbox)."""
    if route.host == "sandbox":
        return route.name not in NOT_SANDBOX_DATA
    if "sandbox_id" in route.params:
        return True
    if route.route.startswith("admin/sandboxes/sandbox/") and "object_id" in route.params:
        return True
    return route.name == "events"


def matrix_routes() -> list[Route]:
    portal = url_routes("demoportal.urls", "portal")
    sandbox = url_routes("demoportal.urls_sandbox", "sandbox")
    names = {route.name for route in portal + sandbox}
    stale = (set(NOT_SANDBOX_DATA) | set(OFF_FOR_EVERYONE)) - names
    assert not stale, f"NOT_SANDBOX_DATA or OFF_FOR_EVERYONE name routes that no longer exist: {stale}"
    return [route for route in portal + sandbox if takes_a_sandbox(route)]


@dataclass
class World:
    a: Sandbox
    b: Sandbox
    c: Sandbox
    tokens: dict[str, str]
    sessions: dict[str, str]  # who → session key
    params: dict[str, Any] = field(default_factory=dict)


def session_key(user: User) -> str:
    client = Client()
    client.force_login(user)
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)


def plant_params(sandbox: Sandbox, token: str) -> dict[str, Any]:
    """URL parameters that name something in ``sandbox``'s plant: an asset with flue-gas O2 and an
    efficiency (so its O2 trim and savings pages exist), its O2 sensor, an event's key, a product feature."""
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    base = f"/api/v1/sandboxes/{sandbox.pk}"
    sensors = api.get(f"{base}/sensors", HTTP_HOST=PORTAL).json()
    kinds: dict[str, dict[str, int]] = {}
    for sensor in sensors:
        kinds.setdefault(sensor["asset_tag"], {})[sensor["kind"]] = sensor["id"]
    tag = next(tag for tag, kind in kinds.items() if {"o2", "efficiency"} <= set(kind))
    assets = {asset["tag"]: asset["id"] for asset in api.get(f"{base}/assets", HTTP_HOST=PORTAL).json()}
    events = api.get(f"{base}/alarms", HTTP_HOST=PORTAL).json()["results"]
    return {
        "sandbox_id": sandbox.pk,
        "object_id": sandbox.pk,
        "tag": tag,
        "asset_id": assets[tag],
        "sensor_id": kinds[tag]["o2"],
        "key": events[0]["key"],
        "product_key": sandbox.product,
        "product": "emissionsguardian",  # a product's area and its CO2 account (every plant has one)
        "feature": "co2-accounting",
    }


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Sandboxes A (Alice's), B and C (both Bob's), D (a superuser's), committed so that websocket
    consumers (other threads) see them; each test's own changes are rolled back."""
    with django_db_blocker.unblock():
        alice = User.objects.create_user(email="alice@isolation.example", password="pw")
        bob = User.objects.create_user(email="bob@isolation.example", password="pw")
        staff = User.objects.create_user(email="staff@isolation.example", password="pw", is_staff=True)
        staff.is_superuser = True
        staff.save()
        made = {
            name: sandbox_create(
                slug=f"isolation-{name}", name=f"Isolation {name}", scenario="oil_gas", owner=owner, product=product
            )
            for name, owner, product in (
                ("a", alice, "thermalcommand"),
                ("b", bob, "thermalcommand"),
                ("c", bob, "boileroptimizer"),
                ("d", staff, "thermalcommand"),  # a staff member's own sandbox: its token is still not staff
            )
        }
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        tokens = {name: access_token_issue(sandbox=sandbox) for name, sandbox in made.items()}
        sessions = {"alice": session_key(alice), "bob": session_key(bob), "staff": session_key(staff)}
        world = World(made["a"], made["b"], made["c"], tokens, sessions)
        world.params = plant_params(world.b, tokens["b"])
        yield world
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        for sandbox in Sandbox.objects.filter(slug__startswith="isolation-"):
            sandbox.delete(force_drop=True)
        User.objects.filter(email__endswith="@isolation.example").delete()


@pytest.fixture
def unthrottled(settings: Any, test_redis: Any) -> None:
    """The matrix sends B more requests in a minute than a prospect may (a fresh count, a higher cap)."""
    settings.SANDBOX_REQUESTS_PER_MINUTE = 100_000


def client_for(world: World, caller: str) -> Client:
    """``token X``: sandbox X's Bearer token; ``session X``: the session of X's owner; ``own``: B's token for
    the API, B's owner's session for pages and staff's for the admin (chosen per request, see ``call``)."""
    client = Client()
    if caller.startswith("token "):
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world.tokens[caller[-1].lower()]}"
    elif caller.startswith("session "):
        who = {"A": "alice", "B": "bob", "staff": "staff"}[caller.split()[1]]
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[who]
    return client


def own_caller(route: Route) -> str:
    if route.route.startswith("admin/") or route.name == "sandbox:watching-prospect":  # for staff watching B
        return "session staff"
    return "token B" if route.api_view is not None and route.name != "tour" else "session B"


def json_body(route: Route, world: World) -> dict[str, Any]:
    """A body B's own caller may send, so that their request gets through."""
    p = world.params
    bodies: dict[str, dict[str, Any]] = {
        # What a token once turned into a sign-in link for its owner (a staff owner's: for anyone).
        "sandboxes": {"email": "alice@isolation.example", "product": "thermalcommand", "industry": "oil_gas"},
        "sandbox-extend": {"hours": 1},
        "sandbox-anomalies": {"type": "excess_air", "asset_id": p["asset_id"], "duration_minutes": 10},
        "sandbox-optimizations": {"kind": "o2_setpoint", "asset_id": p["asset_id"], "parameters": {"o2_pct": 3.0}},
        "sandbox-clock": {"time_scale": 1},
        "events": {"event": "page_view", "sandbox_id": world.b.pk},
        "tour": {"action": "resume"},
    }
    return bodies.get(route.name, {})


def form_body(route: Route) -> dict[str, str]:
    return {"sandbox:asset-o2-trim": {"o2_setpoint_pct": "3"}}.get(route.name, {})


def paths(route: Route, world: World, caller: str) -> list[str]:
    """Every concrete path of ``route`` for sandbox B (one per action), as ``caller`` would send it."""
    values = dict(world.params)
    if "token" in route.params:  # the hand-off link is itself a credential: each caller brings their own
        sandbox = {"token A": world.a, "session A": world.a, "token C": world.c}.get(caller)
        values["token"] = handoff_token(sandbox=sandbox) if sandbox else "forged"
        if caller.endswith("B"):
            values["token"] = handoff_token(sandbox=world.b)
    missing = [param for param in route.params if param not in values and param != "action"]
    assert not missing, f"{route.name} ({route.route}): no value for {missing}; add one to World.params or ACTIONS"
    made = []
    for action in ACTIONS.get(route.name, [""]):
        values["action"] = action
        made.append("/" + PARAMETER.sub(lambda match: str(values[str(match.group(2))]), route.route))
    return made


def hosts(route: Route, world: World) -> list[str]:
    """The portal for its routes; B's host for a sandbox host's, and A's too where the URL names B by id."""
    if route.host == "portal":
        return [PORTAL]
    b_host = sandbox_host(slug=world.b.slug)
    return [b_host, sandbox_host(slug=world.a.slug)] if "sandbox_id" in route.params else [b_host]


def call(client: Client, route: Route, world: World, method: str, path: str, host: str) -> Any:
    if method == "GET":
        return client.get(path, HTTP_HOST=host)
    if route.api_view is not None:
        body = json.dumps(json_body(route, world))
        return client.generic(method, path, body, "application/json", HTTP_HOST=host)
    return client.post(path, form_body(route), HTTP_HOST=host)


def refused(response: HttpResponse) -> bool:
    if response.status_code in (401, 403, 404, 405):  # 405: a method nobody may use, before any check
        return True
    return response.status_code in (301, 302, 303) and bool(SIGN_IN.search(response.get("Location", "")))


def refused_as_documented(response: HttpResponse, route: Route, caller: str) -> bool:
    """docs/api.md: the API answers a valid token or a signed-in user 403/404 (never 401, as if unknown),
    and nobody 401; the pages send nobody to sign in (a token signs no page in) and answer a signed-in
    user who may not see the sandbox 404 (403 for a hand-off link that is not theirs); the admin sends
    anyone but staff to its sign-in."""
    if not refused(response):
        return False
    status, signed_in = response.status_code, caller.startswith("session ")
    if route.api_view is not None:
        return status in (403, 404, 405) if caller != "nobody" else status in (401, 405)
    if route.route.startswith("admin/") or not signed_in:
        return True
    return status in (403, 404, 405)


def reached(response: HttpResponse) -> bool:
    """B's own caller got through the gate: an answer, a redirect elsewhere than a sign-in, or bad input."""
    if response.status_code in (301, 302, 303):
        return not SIGN_IN.search(response.get("Location", ""))
    return response.status_code < 300 or response.status_code in (400, 409)


def names_b(response: HttpResponse, world: World) -> bool:
    body = response.content.decode(errors="replace")
    return world.b.slug in body.replace(sandbox_host(slug=world.b.slug), "") or "bob@isolation.example" in body


def b_replaced_if_retired(world: World) -> None:
    """B's own caller may end B (destroy): the rest of the matrix goes on with a new B of the same owner."""
    world.b.refresh_from_db()
    if not world.b.has_ended:
        return
    owner = world.b.owner
    world.b = sandbox_create(
        slug=f"{world.b.slug}x", name="Isolation b", scenario="oil_gas", owner=owner, product="thermalcommand"
    )
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    world.tokens["b"] = access_token_issue(sandbox=world.b)
    world.params = plant_params(world.b, world.tokens["b"])


def test_every_endpoint_and_page_of_a_sandbox_refuses_everyone_but_its_own(
    world: World, unthrottled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    world = replace(world, tokens=dict(world.tokens))  # B may be replaced here (see b_replaced_if_retired)
    routes = matrix_routes()
    tried = own_tried = 0
    leaks: list[str] = []  # another caller not refused (a 5xx included), or B named in the answer
    errors: list[str] = []  # a 5xx to B's own caller
    not_reached: list[str] = []
    for route in routes:
        own_ok = False
        for method in route.methods:
            for path_host in hosts(route, world):
                for attacker in ATTACKERS:
                    for path in paths(route, world, attacker):
                        response = call(client_for(world, attacker), route, world, method, path, path_host)
                        tried += 1
                        if not refused_as_documented(response, route, attacker) or names_b(response, world):
                            leaks.append(f"{attacker} {method} {path_host}{path} → {response.status_code}")
                own = own_caller(route)
                for path in paths(route, world, own):
                    response = call(client_for(world, own), route, world, method, path, path_host)
                    own_tried += 1
                    own_ok = own_ok or reached(response)
                    if response.status_code >= 500:
                        errors.append(f"{own} {method} {path_host}{path} → {response.status_code}")
                    b_replaced_if_retired(world)
        if not own_ok and route.name not in OFF_FOR_EVERYONE:
            not_reached.append(f"{route.name} ({route.route})")
    with capsys.disabled():
        print(
            f"\nisolation matrix (HTTP): {len(routes)} routes, {tried} requests by other callers, "
            f"{own_tried} by B's own, {len(leaks)} leaks, {len(errors)} 5xx of B's own"
        )
    assert not leaks, "\n".join(leaks)
    assert not errors, "\n".join(errors)
    assert not not_reached, f"B's own credentials did not get through: {not_reached}"


def websocket_routes() -> list[str]:
    return ["/" + str(pattern.pattern) for pattern in asgi.websocket_urlpatterns]


def websocket_for(world: World, caller: str, route: str) -> WebsocketCommunicator:
    """A socket to B's host as ``caller``: a token goes in ``?token=``, a session in its cookie."""
    host = sandbox_host(slug=world.b.slug)
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    query = ""
    if caller.startswith("token "):
        query = f"?token={world.tokens[caller[-1].lower()]}"
    elif caller.startswith("session "):
        who = {"A": "alice", "B": "bob"}[caller.split()[1]]
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={world.sessions[who]}".encode()))
    return WebsocketCommunicator(asgi.application, f"{route}{query}", headers=headers)


WEBSOCKET_REFUSALS = [{"type": "websocket.close", "code": code} for code in (CLOSE_FORBIDDEN, CLOSE_NOT_FOUND)]


@pytest.mark.asyncio
async def test_every_websocket_of_a_sandbox_refuses_everyone_but_its_own(
    world: World, unthrottled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = websocket_routes()
    tried = 0
    leaks: list[str] = []
    for route in routes:
        for attacker in ATTACKERS:
            client = websocket_for(world, attacker, route)
            accepted, _ = await client.connect(timeout=10)
            tried += 1
            if accepted:  # accepted so that the close code reaches the browser: it must come at once
                closed = await client.receive_output(timeout=5)
                if closed not in WEBSOCKET_REFUSALS:
                    leaks.append(f"{attacker} {route} → {closed}")
                await client.disconnect()
        for own in ("token B", "session B"):
            client = websocket_for(world, own, route)
            accepted, _ = await client.connect(timeout=10)
            assert accepted, f"{own} {route}: not accepted"
            await client.send_json_to({"type": "not-a-message"})  # every route answers an unknown message
            answer = await client.receive_output(timeout=5)
            assert answer["type"] == "websocket.send", f"{own} {route}: {answer}"
            await client.disconnect()
    with capsys.disabled():
        print(
            f"\nisolation matrix (websockets): {len(routes)} routes, {tried} connections by others, {len(leaks)} leaks"
        )
    assert not leaks, "\n".join(leaks)


def portal_routes_of_no_sandbox() -> list[Route]:
    return [route for route in url_routes("demoportal.urls", "portal") if not takes_a_sandbox(route)]


def filled(route: Route) -> str | None:
    """A path for ``route`` with placeholder parameters (what a token may do here does not depend on
    them); None for a regular-expression route (the admin's catch-alls), which has no placeholders."""
    if "^" in route.route or "(?P<" in route.route:
        return None
    converters = {"int": "1", "path": "x/y"}
    return "/" + PARAMETER.sub(lambda match: converters.get(str(match.group(1) or "str"), "x"), route.route)


def test_a_sandbox_token_gets_nothing_of_the_portal_that_nobody_gets(
    world: World, unthrottled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Listing and creating sandboxes (an ``access_url`` signs the owner in), the totals, the portal's pages:
    a sandbox's token, even a superuser's own sandbox's, answers 401/403/404 or exactly what an anonymous
    caller gets."""
    tried = 0
    leaks: list[str] = []
    routes = portal_routes_of_no_sandbox()
    for route in routes:
        path = filled(route)
        if path is None:
            continue
        for method in route.methods:
            nobody = call(Client(), route, world, method, path, PORTAL)
            for token in ("token A", "token D"):
                response = call(client_for(world, token), route, world, method, path, PORTAL)
                tried += 1
                same = (response.status_code, response.get("Location")) == (nobody.status_code, nobody.get("Location"))
                if not (refused(response) or same) or response.status_code >= 500:
                    leaks.append(f"{token} {method} {path} → {response.status_code} (nobody: {nobody.status_code})")
    with capsys.disabled():
        print(
            f"\nisolation matrix (portal, sandbox tokens): {len(routes)} routes, {tried} requests, {len(leaks)} leaks"
        )
    assert not leaks, "\n".join(leaks)
