"""The bad-input sweep: every endpoint of both URL confs, walked from their resolvers (a new endpoint is covered
without editing this file), gets bad bodies and query strings as a signed-in user on its host — staff on the
portal, the sandbox's owner on the sandbox's host. Whatever comes back, it is never a 5xx, and every JSON
error has the project's shape ``{"detail": ..., "errors": {...}}``.

The bodies carry every field name the project's forms and serializers (and allauth's forms) declare, so one
request hits every field of whichever form or serializer the endpoint reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from allauth.account.models import EmailAddress
from django import forms
from django.conf import settings as django_settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import schema_context
from rest_framework import serializers

from analytics.apis.events import EventThrottle
from demoportal.core.models import User
from sandboxes.models import Sandbox
from simulation.engine.assets import ASSET_TYPES
from simulation.models import Sensor
from simulation.selectors.alarms import alarm_rows
from simulation.selectors.plant import plant_get, plant_sim_now, to_minute
from tests.conftest import TEST_SANDBOX_SLUG

pytestmark = pytest.mark.django_db

PORTAL_HOST = "localhost"
SANDBOX_HOST = f"{TEST_SANDBOX_SLUG}.localhost"
LONG = "x" * 10_000  # longer than any field takes; in every field at once, a body of about 1 MB
DEEP = 100_000  # levels: deeper than the JSON decoder's stack
# The admin's forms of our apps (third-party apps' admin pages are Django's and allauth's own): add,
# change and our own plant-change pages; not lists, history or delete confirmations (no input to store).
ADMIN_APPS = ("sandboxes", "crm", "analytics", "demoportal")
ADMIN_FORMS = ("/add/", "/change/", "/anomaly/", "/raise-alarm/", "/clock/", "/open/", "/watch/")


@dataclass(frozen=True)
class Endpoint:
    host: str
    route: str  # as the resolver writes it, e.g. "api/v1/sandboxes/<int:sandbox_id>/kpis"
    view_class: type | None  # a DRF view's class; None for Django's views

    @property
    def drf(self) -> bool:
        return self.view_class is not None

    def __str__(self) -> str:
        return f"{self.host}/{self.route}"


def routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def endpoints() -> list[Endpoint]:
    found = []
    for urlconf, host in (("demoportal.urls", PORTAL_HOST), ("demoportal.urls_sandbox", SANDBOX_HOST)):
        for route, callback in routes(get_resolver(urlconf).url_patterns):
            if route.startswith("admin/") and not (
                any(route.startswith(f"admin/{app}/") for app in ADMIN_APPS) and route.endswith(ADMIN_FORMS)
            ):
                continue
            found.append(Endpoint(host=host, route=route, view_class=getattr(callback, "cls", None)))
    return found


def field_names() -> list[str]:
    """Every field name a form or serializer of the project or allauth declares, and ``next``."""
    names = {"next"}
    pending: list[type] = [forms.BaseForm, serializers.BaseSerializer]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in ("allauth", "crm", "demoportal", "sandboxes", "simulation", "analytics"):
            names.update(getattr(cls, "base_fields", {}) or getattr(cls, "_declared_fields", {}))
    return sorted(names)


NAMES = field_names()


def form(pairs: list[tuple[str, str]]) -> tuple[bytes, str]:
    return urlencode(pairs).encode(), "application/x-www-form-urlencoded"


def as_json(value: Any) -> tuple[bytes, str]:
    return json.dumps(value).encode(), "application/json"


def raw_json(text: str) -> tuple[bytes, str]:
    return text.encode(), "application/json"


def each_raw(value: str) -> tuple[bytes, str]:
    """A JSON object giving every field the raw JSON text ``value``."""
    return raw_json("{" + ", ".join(f'"{name}": {value}' for name in NAMES) + "}")


# What an HTML form view gets: forms, and bodies that are no form.
FORM_BODIES: dict[str, tuple[bytes, str]] = {
    "form, long values": form([(name, LONG) for name in NAMES]),
    "form, NUL": form([(name, "a\x00b") for name in NAMES]),
    "form, repeated fields": form([(name, value) for name in NAMES for value in ("1", "2")]),
    "form, words for numbers": form([(name, "abc") for name in NAMES]),
    "form, numbers out of range": form([(name, "-1e309") for name in NAMES]),
    "form, surrogate bytes": ("&".join(f"{name}=%ED%A0%80" for name in NAMES).encode(), form([])[1]),
    "form, next without a slash": form([("next", "pricing")]),
    "form, empty": form([]),
    "multipart, NUL": (
        b'--B\r\nContent-Disposition: form-data; name="message"\r\n\r\na\x00b\r\n--B--\r\n',
        "multipart/form-data; boundary=B",
    ),
}
NOT_FORM_BODIES: dict[str, tuple[bytes, str]] = {
    "json": as_json({"next": "x"}),
    "text/plain": (b"event=feature_viewed", "text/plain"),
    "xml": (b"<event>feature_viewed</event>", "application/xml"),
    "no content type": (b"slot=1", ""),
}
# What an API gets besides those: JSON of every wrong kind.
JSON_BODIES: dict[str, tuple[bytes, str]] = {
    "json, long values": as_json(dict.fromkeys(NAMES, LONG)),
    "json, too deep": raw_json('{"next": ' + "[" * DEEP + "]" * DEEP + "}"),
    "json, deep but parseable": each_raw("[" * 40 + "]" * 40),
    "json, NUL": as_json(dict.fromkeys(NAMES, "a\x00b")),
    "json, lone surrogate": each_raw('"a\\ud800"'),
    "json, lone surrogate and NUL keys": raw_json('{"\\udfff": 1, "a\\u0000": 2}'),
    "json, numbers for strings": as_json(dict.fromkeys(NAMES, 12345)),
    "json, huge numbers": each_raw("1e999"),
    "json, huge numbers inside": each_raw('{"o2_pct": [1e999], "a": -1e999}'),
    "json, arrays": as_json({name: [1, "a", None] for name in NAMES}),
    "json, objects": as_json({name: {"a": {"b": 1}} for name in NAMES}),
    "json, nulls and booleans": as_json({name: (None if i % 2 else True) for i, name in enumerate(NAMES)}),
    "json, strings for numbers": as_json(dict.fromkeys(NAMES, "12abc")),
    "json, a list at the top": as_json([{"event": "feature_viewed"}]),
    "json, malformed": raw_json('{"event": '),
    "json, empty": raw_json(""),
}
QUERIES: dict[str, str] = {
    "query, long values": urlencode([(name, LONG) for name in NAMES]),
    "query, NUL": urlencode([(name, "a\x00b") for name in NAMES]),
    "query, repeated": urlencode([(name, value) for name in NAMES for value in ("1", "2")]),
    "query, words for numbers": urlencode([(name, "abc") for name in NAMES]),
    "query, surrogate bytes": "&".join(f"{name}=%ED%A0%80" for name in NAMES),
}


@pytest.fixture(scope="module")
def plant(django_db_setup: None, django_db_blocker: Any) -> dict[str, Any]:
    """Real ids in the test sandbox, so requests reach past the lookups: a sensor, an alarm's key, and the
    tag of an asset with an O2 and an efficiency sensor (its page has both forms)."""
    with django_db_blocker.unblock(), schema_context(Sandbox.objects.get(slug=TEST_SANDBOX_SLUG).schema_name):
        plant = plant_get()
        assert plant is not None
        now = to_minute(plant_sim_now(plant))
        event = alarm_rows(plant, since_minute=now - 7 * 1440, end_minute=now + 1)[0]
        o2 = Sensor.objects.filter(kind="o2").select_related("asset")  # on an asset that takes an O2 trim
        sensor = next(s for s in o2 if ASSET_TYPES[s.asset.type].overlay_refusal("o2_setpoint") is None)
        return {"sensor_id": sensor.pk, "tag": sensor.asset.tag, "key": event["key"]}


@pytest.fixture
def clients(sandbox: Sandbox, settings: Any, monkeypatch: pytest.MonkeyPatch, test_redis: Any) -> dict[str, Client]:
    """Staff on the portal; the sandbox's owner on its host. No rate limit gets in the way."""
    settings.SANDBOX_REQUESTS_PER_MINUTE = 1_000_000
    monkeypatch.setattr(EventThrottle, "THROTTLE_RATES", {"events": "1000000/min"})
    staff = User.objects.create_superuser(email="ae@vendor.example", password="pw")
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    owner = User.objects.create_user(email="owner@plant.example", password="pw", role="engineer")
    EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner, product="thermalcommand", role="engineer")
    signed_in = {}
    for host, user in ((PORTAL_HOST, staff), (SANDBOX_HOST, owner)):
        client = Client(HTTP_HOST=host, raise_request_exception=True)
        client.user = user  # type: ignore[attr-defined]
        signed_in[host] = client
    return signed_in


def path_of(endpoint: Endpoint, values: dict[str, Any]) -> str:
    """The route with its parameters filled in: real ids where the name says which, else a word."""

    def value(name: str) -> str:
        return quote(str(values.get(name, "x")), safe="")

    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: value(match.group(1)), endpoint.route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda match: value(match.group(1)), path)
    return "/" + path.replace("^", "").replace("$", "")


@pytest.mark.parametrize("endpoint", endpoints(), ids=str)
def test_no_bad_input_gets_a_5xx(
    endpoint: Endpoint, clients: dict[str, Client], sandbox: Sandbox, plant: dict[str, Any]
) -> None:
    values = {
        **plant,
        "sandbox_id": sandbox.pk,
        "object_id": sandbox.pk,
        "action": "extend",
        "product_key": "thermalcommand",
        "app_label": "sandboxes",
    }
    client = clients[endpoint.host]
    path = path_of(endpoint, values)
    requests = [("POST", name, path, *body) for name, body in {**FORM_BODIES, **NOT_FORM_BODIES}.items()]
    if endpoint.drf:
        requests += [("POST", name, path, *body) for name, body in JSON_BODIES.items()]
        for method in ("PUT", "PATCH"):
            if hasattr(endpoint.view_class, method.lower()):
                requests.append((method, f"{method}, long values", path, *JSON_BODIES["json, long values"]))
    if not endpoint.route.startswith("admin/"):  # the admin's lists take filters, not input to store
        requests += [("GET", name, f"{path}?{query}", b"", "") for name, query in QUERIES.items()]
    failures = []
    for method, what, url, body, content_type in requests:
        if not client.cookies.get(django_settings.SESSION_COOKIE_NAME, SimpleCookie("x=")["x"]).value:  # signed out
            client.force_login(client.user)  # type: ignore[attr-defined]
        try:
            response = client.generic(method, url, body, content_type=content_type)
        except Exception as error:  # noqa: BLE001  # the test client re-raises the view's exception: a 500
            failures.append(f"{method} {endpoint.host}{path} ({what}): {type(error).__name__}: {str(error)[:300]}")
            continue
        if response.status_code >= 500:
            failures.append(f"{method} {endpoint.host}{path} ({what}): {response.status_code}")
        elif endpoint.drf and response.status_code >= 400 and response["Content-Type"] == "application/json":
            body_json = response.json()
            if not (isinstance(body_json, dict) and set(body_json) == {"detail", "errors"}):
                failures.append(f"{method} {endpoint.host}{path} ({what}): error shape {str(body_json)[:200]}")
            elif len(response.content) > 20_000:
                failures.append(f"{method} {endpoint.host}{path} ({what}): {len(response.content)} bytes echoed")
    assert not failures, "\n".join(failures)
