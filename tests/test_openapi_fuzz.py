"""schemathesis over the OpenAPI each host serves: every operation, valid and invalid input, as staff
(DRF token) and with a sandbox's own Bearer token, against the real app in-process (Django's WSGI
handler, routed by Host like any request) and the session's real refinery sandbox.

Every response must pass every schemathesis check: no 5xx, the status code, content type, headers and
body all as documented. Each request runs in a savepoint that is rolled back afterwards, so a DELETE
or a reset does not take the sandbox away from the requests after it, and the run is repeatable
(Hypothesis derandomized, no example database).
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.tokens import access_token_issue

pytestmark = pytest.mark.django_db

# Per operation, per generation mode: enough for Hypothesis to reach past the first field's errors,
# few enough that the three runs take under a minute on two idle cores (about 1,800 requests; three
# minutes when five other test runs share them). Each case is 2-4 requests:
# schemathesis' checks send it again without credentials, with others, with another method.
MAX_EXAMPLES = 15
# An operation with nothing to vary (its path's ids are fixed, no body or query): a reset, a destroy.
MAX_EXAMPLES_FIXED = 2
FUZZ_SLOWEST = int(os.environ.get("FUZZ_SLOWEST", "5"))

# Rules JSON Schema cannot state: relative to now, to this plant's own assets and history, or to who asks.
# Input that fits the schema may break them, so there a 400 is right for "valid" input, as long as its
# errors name only these fields (checked instead of schemathesis' positive_data_acceptance).
RULES_THE_SCHEMA_CANNOT_STATE = {
    "POST /api/v1/events": {"occurred_at"},  # within the last day
    # One's own address; the catalogue's keys; a purpose that fits the caller (partner or not).
    "POST /api/v1/sandboxes": {"email", "product", "industry", "role", "purpose", "customer_company"},
    "POST /api/v1/sandboxes/{sandbox_id}/extend": {"hours", "reason"},  # 7 (30) days at most; staff say why
    "POST /api/v1/sandboxes/{sandbox_id}/anomalies": {"asset_id", "type"},  # this plant's asset; its type's anomalies
    "POST /api/v1/sandboxes/{sandbox_id}/optimizations": {"asset_id", "kind", "parameters"},  # an asset with O2
    "GET /api/v1/sandboxes/{sandbox_id}/sensors": {"asset"},  # this plant's asset
    "GET /api/v1/sandboxes/{sandbox_id}/sensors/{sensor_id}/series": {"start", "end"},  # within its history
    "GET /api/v1/sandboxes/{sandbox_id}/alarms": {"since"},  # within its history
    "GET /api/v1/sandboxes/{sandbox_id}/events": {"since"},  # the same list under its old path
    "POST /api/v1/tour": {"step"},  # a step of this tour
}


@dataclass
class Tally:
    cases: int = 0
    requests: int = 0
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    summary: str = ""


class CountingApp:
    """Django's WSGI application, counting every request it answers and its 5xx, those that
    schemathesis' checks send on their own included."""

    def __init__(self) -> None:
        self.django = WSGIHandler()
        self.requests = 0
        self.server_errors = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def counting_start_response(status: str, headers: Any, *args: Any) -> Any:
            self.requests += 1
            self.server_errors += status.startswith("5")
            return start_response(status, headers, *args)

        return self.django(environ, counting_start_response)


@pytest.fixture
def app() -> Iterator[CountingApp]:
    """Django's WSGI application, with the test's transaction kept open across its requests: a request's
    start and end would otherwise close the connection the test transaction lives on (Django's own test
    client disconnects these the same way)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield CountingApp()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def owned_sandbox(sandbox: Sandbox, settings: Any) -> Sandbox:
    """The session's refinery sandbox, owned by a prospect (a sandbox token authenticates as its owner)."""
    owner = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner, product="thermalcommand", role="engineer")
    sandbox.refresh_from_db()
    # The run sends more than a minute's worth of requests to one sandbox; its per-minute limit is not
    # what is under test here (tests/sandboxes/test_usage.py is), and its 429 would hide the rest.
    settings.SANDBOX_REQUESTS_PER_MINUTE = 1_000_000
    return sandbox


def staff_authorization() -> str:
    """A salesperson's token: staff, and in Sales so that the leads and accounts API answers too."""
    user = User.objects.create_user(email="fuzz@vendor.example", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Sales"))
    return f"Token {Token.objects.create(user=user).key}"


@dataclass
class Target:
    app: CountingApp
    base_url: str
    authorization: str
    tally: Tally

    def send_and_check(self, case: Any, *, semantic_fields: set[str] | None) -> None:
        """One request, in a savepoint rolled back afterwards, and every schemathesis check on its answer."""
        headers = {"Authorization": self.authorization}
        excluded = []
        if semantic_fields is not None and case.meta.generation.mode != GenerationMode.NEGATIVE:
            excluded = [positive_data_acceptance]
        with transaction.atomic():
            try:
                response = case.call(base_url=self.base_url, headers=headers, app=self.app)
                self.tally.cases += 1
                if excluded and response.status_code == 400:
                    assert set(response.json()["errors"]) <= semantic_fields, response.text  # type: ignore[operator]
                case.validate_response(
                    response,
                    headers=headers,
                    excluded_checks=excluded,
                    transport_kwargs={"app": self.app, "base_url": self.base_url},
                )
            finally:
                transaction.set_rollback(True)

    def run(self, label: str, strategy: Any, *, max_examples: int, semantic_fields: set[str] | None) -> None:
        started = time.monotonic()

        @settings(
            max_examples=max_examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],  # report each case as found: no shrinking
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def check(case: Any) -> None:
            self.send_and_check(case, semantic_fields=semantic_fields)

        try:
            check()
        except (AssertionError, BaseExceptionGroup) as exc:  # schemathesis reports its failures as a group
            self.tally.failures.append(f"{label}: {exc}")
        self.tally.seconds[label] = time.monotonic() - started


def fuzz(
    app: CountingApp, *, host: str, authorization: str, sandbox: Sandbox, skip: frozenset[str] = frozenset()
) -> Tally:
    """Every operation of the schema ``host`` serves (but those in ``skip``): its examples, then
    MAX_EXAMPLES valid and invalid cases each."""
    schema = load_schema(app, host)
    requests_before, errors_before = app.requests, app.server_errors
    target = Target(app=app, base_url=f"http://{host}", authorization=authorization, tally=Tally())
    crashes: list[str] = []

    def record_crash(sender: Any, request: Any = None, **kwargs: Any) -> None:
        crashes.append(traceback.format_exc())

    signals.got_request_exception.connect(record_crash)
    try:
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result
            operation = result.ok()
            if operation.label in skip:
                continue
            path_parameters = {"sandbox_id": sandbox.pk} if "{sandbox_id}" in operation.path else {}
            semantic_fields = RULES_THE_SCHEMA_CANNOT_STATE.get(operation.label)
            examples = schema.get_strategies_from_examples(operation, path_parameters=path_parameters)
            if examples:
                label = f"{operation.label} [examples]"
                target.run(label, st.one_of(examples), max_examples=len(examples), semantic_fields=semantic_fields)
            generated_path = {parameter.name for parameter in operation.path_parameters} - set(path_parameters)
            varies = len(operation.body) + len(operation.query) + len(generated_path) > 0
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
                target.run(
                    f"{operation.label} [{mode.value}]",
                    strategy,
                    max_examples=MAX_EXAMPLES if varies else MAX_EXAMPLES_FIXED,
                    semantic_fields=semantic_fields,
                )
    finally:
        signals.got_request_exception.disconnect(record_crash)
    tally = target.tally
    tally.exceptions = crashes
    tally.requests, tally.server_errors = app.requests - requests_before, app.server_errors - errors_before
    tally.summary = (
        f"schemathesis {host} as {authorization.split()[0]}: {tally.cases} cases, {tally.requests} requests,"
        f" {tally.server_errors} 5xx, {len(tally.failures)} failing operations"
    )
    slowest = sorted(tally.seconds.items(), key=lambda item: -item[1])[:FUZZ_SLOWEST]
    tally.summary += "".join(f"\n  {seconds:5.1f} s  {label}" for label, seconds in slowest)
    return tally


# Every JSON body is refused with 400 when a string or key holds a NUL (demoportal/core/parsers.py, like
# PostgreSQL's text), a rule JSON Schema cannot state for keys: valid data never holds one.
CONFIG = SchemathesisConfig.from_dict({"generation": {"allow-x00": False}})


def load_schema(app: CountingApp, host: str) -> Any:
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, config=CONFIG, headers={"Host": host})


def assert_clean(tally: Tally, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():  # the counts the issue asks for, in `make test`'s output too
        print(f"\n{tally.summary}")
    assert tally.cases > 0
    details = "\n\n".join(tally.failures + tally.exceptions[:5])
    assert tally.server_errors == 0, details
    assert not tally.failures, details


def test_portal_api_as_staff(app: CountingApp, owned_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert_clean(fuzz(app, host="localhost", authorization=staff_authorization(), sandbox=owned_sandbox), capsys)


def test_portal_api_with_a_sandbox_token(
    app: CountingApp, owned_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    token = access_token_issue(sandbox=owned_sandbox)
    assert_clean(fuzz(app, host="localhost", authorization=f"Bearer {token}", sandbox=owned_sandbox), capsys)


def test_sandbox_host_api_with_its_token(
    app: CountingApp, owned_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sandbox host's own operations (the tour); the plant API it shares with the portal, the same
    views, is fuzzed there."""
    token = access_token_issue(sandbox=owned_sandbox)
    portal_labels = {result.ok().label for result in load_schema(app, "localhost").get_all_operations()}
    host = f"{owned_sandbox.slug}.localhost"
    tally = fuzz(app, host=host, authorization=f"Bearer {token}", sandbox=owned_sandbox, skip=frozenset(portal_labels))
    assert_clean(tally, capsys)
