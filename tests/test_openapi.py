"""The served OpenAPI documents what each host really serves, and /api/docs/ works offline.

The portal host's schema is compared with the portal's URL conf, the sandbox host's with the sandbox
URL conf, both walked here independently of drf-spectacular, so an endpoint added to either is checked
without editing this test.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token
from rest_framework.views import APIView

from demoportal.core.models import User
from sandboxes.models import Sandbox

pytestmark = pytest.mark.django_db

PORTAL = "localhost"
ERROR_SHAPE = {"detail", "errors"}


def api_operations(urlconf: str) -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) of every DRF view under /api/v1/ that ``urlconf`` routes to."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            view = getattr(pattern.callback, "cls", None)
            if not route.startswith("api/v1/") or view is None or not issubclass(view, APIView):
                continue
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
            found.update((method.upper(), path) for method in view.http_method_names if hasattr(view, method))
            found.discard(("OPTIONS", path))

    walk(get_resolver(urlconf).url_patterns, "")
    return found


def schema_of(host: str) -> dict[str, Any]:
    response = Client().get("/api/schema/", {"format": "json"}, HTTP_HOST=host)
    assert response.status_code == 200, response.content[:500]
    schema: dict[str, Any] = response.json()
    return schema


def documented(schema: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, operations in schema["paths"].items() for method in operations}


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def resolve_ref(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def response_schema(schema: dict[str, Any], operation: dict[str, Any], status: str) -> dict[str, Any]:
    return resolve_ref(schema, operation["responses"][status]["content"]["application/json"]["schema"])


def test_the_portal_schema_lists_exactly_what_the_portal_serves() -> None:
    expected = api_operations(settings.PUBLIC_SCHEMA_URLCONF)
    assert ("POST", "/api/v1/sandboxes") in expected  # the walk above finds the lifecycle API

    assert documented(schema_of(PORTAL)) == expected


def test_the_sandbox_host_schema_lists_exactly_what_a_sandbox_host_serves(sandbox: Sandbox) -> None:
    expected = api_operations(settings.ROOT_URLCONF)
    assert ("GET", "/api/v1/tour") in expected

    schema = schema_of(f"{sandbox.slug}.localhost")

    assert documented(schema) == expected
    assert ("POST", "/api/v1/sandboxes") not in documented(schema)


def test_paginated_lists_document_the_page_envelope() -> None:
    schema = schema_of(PORTAL)

    for path in ("/api/v1/sandboxes", "/api/v1/sandboxes/{sandbox_id}/alarms"):
        operation = schema["paths"][path]["get"]
        body = response_schema(schema, operation, "200")
        assert body["type"] == "object", path
        assert {"count", "next", "previous", "results"} <= set(body["properties"]), path
        assert body["properties"]["results"]["type"] == "array", path
        assert "page" in {parameter["name"] for parameter in operation["parameters"]}, path


@pytest.mark.parametrize("host", [PORTAL, "test-sandbox.localhost"])
def test_every_operation_documents_its_errors_in_the_error_shape(host: str) -> None:
    schema = schema_of(host)

    for method, path, operation in operations(schema):
        statuses = set(operation["responses"])
        takes_input = "requestBody" in operation or any(p["in"] == "query" for p in operation.get("parameters", []))
        has_path_parameters = "{" in path
        expected = {"401", "403"} | ({"400"} if takes_input else set()) | ({"404"} if has_path_parameters else set())
        assert expected <= statuses, (method, path, statuses)
        for status in statuses - {"200", "201", "202", "204"}:
            body = response_schema(schema, operation, status)
            assert set(body["required"]) == ERROR_SHAPE, (method, path, status)


def test_plant_and_lifecycle_conflicts_are_documented() -> None:
    paths = schema_of(PORTAL)["paths"]

    assert {"409", "410", "429"} <= set(paths["/api/v1/sandboxes/{sandbox_id}/kpis"]["get"]["responses"])
    assert {"409", "429"} <= set(paths["/api/v1/sandboxes/{sandbox_id}/reset"]["post"]["responses"])
    assert "409" in paths["/api/v1/sandboxes/{sandbox_id}/extend"]["post"]["responses"]
    assert "429" in paths["/api/v1/events"]["post"]["responses"]  # EVENTS_RATE
    assert "503" in paths["/api/v1/sandboxes"]["post"]["responses"]  # every sandbox in use


def test_api_docs_load_only_local_assets_and_no_inline_script() -> None:
    client = Client()
    page = client.get("/api/docs/", HTTP_HOST=PORTAL)
    assert page.status_code == 200
    html = page.content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle" in asset for asset in assets)
    for asset in assets:
        assert asset.startswith("/"), asset  # never another origin (a CDN)
        response = client.get(asset.replace("&amp;", "&"), HTTP_HOST=PORTAL)
        assert response.status_code == 200, asset
    # Under a Content-Security-Policy without 'unsafe-inline' every script and style must be a file.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html
    assert " style=" not in html


def staff_client() -> Client:
    user = User.objects.create_user(email="docs@vendor.example", password="pw", is_staff=True)
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}", HTTP_HOST=PORTAL)


@pytest.mark.parametrize("path", ["/api/v1/sandboxes/-1", "/api/v1/sandboxes/1/alarms//acknowledge", "/api/v1/nope"])
def test_an_api_path_no_route_matches_is_a_json_404_in_the_error_shape(path: str) -> None:
    response = staff_client().get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == ERROR_SHAPE
    assert Client().get(path, HTTP_HOST=PORTAL).status_code == 401  # credentials first, as on every endpoint


def test_a_sandbox_list_filter_of_whitespace_matches_nothing_rather_than_being_refused(sandbox: Sandbox) -> None:
    response = staff_client().get("/api/v1/sandboxes", {"industry": "\x1c"})

    assert response.status_code == 200, response.content
    assert response.json()["results"] == []
