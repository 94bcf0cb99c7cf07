"""The JSON body every API reads (``demoportal.core.parsers.SafeJSONParser``): too deep, NUL bytes and lone
surrogates are refused with 400 before anything reaches a serializer or the database."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from analytics.models import Event
from demoportal.core.models import User

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events"


@pytest.fixture
def client() -> APIClient:
    client = APIClient(HTTP_HOST="localhost")
    client.force_login(User.objects.create_user(email="viewer@plant.example", password="pw"))
    return client


def post_raw(client: APIClient, body: str | bytes) -> tuple[int, dict[str, Any]]:
    response = client.post(EVENTS, body, content_type="application/json")
    return response.status_code, response.json()


def test_json_nested_deeper_than_the_python_stack_is_a_400(client: APIClient) -> None:
    status, body = post_raw(
        client, '{"event": "feature_viewed", "properties": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    )

    assert status == 400
    assert "nested deeper" in str(body["detail"])
    assert body["errors"] == {}


def test_json_nested_deeper_than_the_limit_is_a_400_even_when_python_could_parse_it(client: APIClient) -> None:
    status, body = post_raw(client, '{"event": "feature_viewed", "properties": {"a": ' + "[" * 100 + "]" * 100 + "}}")

    assert status == 400
    assert "nested deeper" in str(body["detail"])
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"event": "feature_viewed", "idempotency_key": "a\\u0000b"}', "idempotency_key"),
        ('{"event": "feature_viewed", "idempotency_key": "a\\ud800b"}', "idempotency_key"),
        ('{"event": "feature_viewed", "properties": {"feature": ["x", "\\u0000"]}}', "properties.feature.1"),
        ('{"event": "feature_viewed", "properties": {"deep": {"x": "\\udfff"}}}', "properties.deep.x"),
    ],
)
def test_nul_and_lone_surrogates_in_strings_are_refused_naming_the_field(
    client: APIClient, body: str, field: str
) -> None:
    status, answer = post_raw(client, body)

    assert status == 400
    assert list(answer["errors"]) == [field]
    assert not Event.objects.exists()


@pytest.mark.parametrize("key", ["fe\\u0000ature", "fe\\ud800ature"])
def test_nul_and_lone_surrogates_in_keys_are_refused_naming_the_key_printably(client: APIClient, key: str) -> None:
    status, answer = post_raw(client, '{"event": "feature_viewed", "properties": {"' + key + '": 1}}')

    assert status == 400
    (field,) = answer["errors"]
    assert field.startswith("properties.fe")
    assert field.isprintable()
    assert not Event.objects.exists()


def test_a_surrogate_pair_is_a_character_not_a_lone_surrogate(client: APIClient) -> None:
    status, _ = post_raw(client, '{"event": "feature_viewed", "properties": {"feature": "\\ud83d\\ude00"}}')

    assert status == 202
    assert Event.objects.get().properties == {"feature": "\U0001f600"}


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        ("event=feature_viewed&idempotency_key=a%00b", "application/x-www-form-urlencoded", "idempotency_key"),
        (
            "event=feature_viewed&properties.fe%00ature=x",
            "application/x-www-form-urlencoded",
            "properties.fe\\u0000ature",
        ),
    ],
)
def test_nul_in_a_form_body_is_refused_naming_the_field(
    client: APIClient, body: str, content_type: str, field: str
) -> None:
    response = client.post(EVENTS, body, content_type=content_type)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not Event.objects.exists()


def test_nul_in_a_multipart_field_is_refused_naming_it(client: APIClient) -> None:
    response = client.post(EVENTS, {"event": "feature_viewed", "properties.feature": "a\x00b"}, format="multipart")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["properties.feature"]
    assert not Event.objects.exists()


@pytest.mark.parametrize("number", ["1e999", "-1e999"])
def test_a_number_too_large_for_a_float_is_refused_naming_its_place(client: APIClient, number: str) -> None:
    """json reads 1e999 as infinity, which no JSON column can store (DataError) and no JSON can carry back."""
    status, answer = post_raw(client, '{"event": "feature_viewed", "properties": {"n": [1, ' + number + "]}}")

    assert status == 400
    assert list(answer["errors"]) == ["properties.n.1"]
    assert not Event.objects.exists()
