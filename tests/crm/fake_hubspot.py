"""A fake HubSpot CRM v3 API, as much of it as ``crm.sync.hubspot`` uses, on a real HTTP server on 127.0.0.1.

Stateful: contact property groups and properties (409 on a duplicate), contacts upserted by e-mail (ids are
strings, e-mails kept lower-case as HubSpot does), notes created (one by one or in batches) with their
associations and updated, the account's details. It checks what HubSpot checks that matters to us: the Bearer
token (401 with HubSpot's body), the private app's scopes (403 MISSING_SCOPES), 100 inputs per batch, repeated
ids, unknown properties, number values, malformed e-mails, ``hs_timestamp`` on notes, note → contact associations
(type 202). It limits requests like HubSpot, 100 per rolling 10 s (429 TEN_SECONDLY_ROLLING, with the
``X-HubSpot-RateLimit-*`` headers and ``Retry-After``), and reports a daily allowance in every answer's headers.

Faults to inject: the next N calls (to a path, after skipping some) answer a status (500, 503, 429 with a
Retry-After), answer slowly (longer than the client's timeout), or answer malformed JSON; ``down`` answers
every call 503, as in an outage. Calls are counted per endpoint (``calls["contacts_upsert"]``).

Being a real server, another process (a Celery worker) reaches it too: ``environment()`` gives its settings.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

PORTAL_ID = 24681357
ALL_SCOPES = frozenset(
    {
        "crm.objects.contacts.read",
        "crm.objects.contacts.write",
        "crm.schemas.contacts.read",
        "crm.schemas.contacts.write",
    }
)
BATCH_LIMIT = 100
NOTE_TO_CONTACT = 202
NOTE_PROPERTIES = {"hs_timestamp", "hs_note_body", "hubspot_owner_id", "hs_attachment_ids"}
EMAIL = re.compile(r"^[^@\s\"]+@[^@\s]+\.[A-Za-z]{2,}$")
RATE_LIMIT_INTERVAL_MS = 10_000
# Contact properties every HubSpot portal has (the ones the client writes, and a few more).
STANDARD_PROPERTIES = {
    "email": ("string", "text"),
    "firstname": ("string", "text"),
    "lastname": ("string", "text"),
    "company": ("string", "text"),
    "jobtitle": ("string", "text"),
    "phone": ("string", "phonenumber"),
    "country": ("string", "text"),
    "lifecyclestage": ("enumeration", "radio"),
    "hs_object_id": ("number", "number"),
}
FIELD_TYPES = {
    "string": {"text", "textarea", "phonenumber", "html", "file"},
    "number": {"number", "calculation_equation"},
    "enumeration": {"select", "radio", "checkbox", "booleancheckbox"},
    "date": {"date"},
    "datetime": {"date"},
    "bool": {"booleancheckbox"},
}
# What each endpoint needs of the private app's scopes.
SCOPE_OF = {
    "group_get": "crm.schemas.contacts.read",
    "properties_list": "crm.schemas.contacts.read",
    "group_create": "crm.schemas.contacts.write",
    "property_create": "crm.schemas.contacts.write",
    "contacts_upsert": "crm.objects.contacts.write",
    "note_create": "crm.objects.contacts.write",
    "notes_create": "crm.objects.contacts.write",
    "notes_update": "crm.objects.contacts.write",
    "note_update": "crm.objects.contacts.write",
}
ROUTES = Map(
    [
        Rule("/crm/v3/properties/<object_type>/groups/<name>", methods=["GET"], endpoint="group_get"),
        Rule("/crm/v3/properties/<object_type>/groups", methods=["POST"], endpoint="group_create"),
        Rule("/crm/v3/properties/<object_type>", methods=["GET"], endpoint="properties_list"),
        Rule("/crm/v3/properties/<object_type>", methods=["POST"], endpoint="property_create"),
        Rule("/crm/v3/objects/contacts/batch/upsert", methods=["POST"], endpoint="contacts_upsert"),
        Rule("/crm/v3/objects/notes", methods=["POST"], endpoint="note_create"),
        Rule("/crm/v3/objects/notes/batch/create", methods=["POST"], endpoint="notes_create"),
        Rule("/crm/v3/objects/notes/batch/update", methods=["POST"], endpoint="notes_update"),
        Rule("/crm/v3/objects/notes/<note_id>", methods=["PATCH"], endpoint="note_update"),
        Rule("/account-info/v3/details", methods=["GET"], endpoint="account_info"),
    ]
)


class _HubSpotError(Exception):
    """An error answer in HubSpot's shape."""

    def __init__(self, status: int, message: str, category: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}
        self.body.update(extra)


def _invalid_properties(*problems: dict[str, Any]) -> _HubSpotError:
    """HubSpot's refusal of property values (the whole call): the problems, as JSON inside the message."""
    return _HubSpotError(400, f"Property values were not valid: {json.dumps(list(problems))}", "VALIDATION_ERROR")


def _problem(name: str, error: str, message: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": error, "name": name, "localizedErrorMessage": message}


class _Server(HTTPServer):
    """pytest-httpserver's server, polling for its stop every 50 ms rather than 500 (each test stops one)."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.05)


@dataclass
class Fault:
    """What the next ``times`` calls (whose path contains ``path``, by ``method`` if given, after ``skip`` of
    them) get."""

    kind: str  # "status", "slow", "malformed"
    times: int
    path: str = ""
    method: str = ""
    skip: int = 0
    status: int = 503
    retry_after: int | str | None = None  # seconds, or an HTTP date
    policy: str = "TEN_SECONDLY_ROLLING"  # a 429's policyName
    body: bytes | None = None  # instead of HubSpot's error body
    seconds: float = 0.0
    shape: str = "truncated"  # malformed: "truncated" JSON, an "html" page, or JSON of the wrong "shape"


@dataclass
class Seen:
    """One request as the fake saw it."""

    method: str
    path: str
    endpoint: str
    status: int
    inputs: int | None  # a batch's number of inputs
    authorization: str


@dataclass
class FakeNote:
    id: str
    properties: dict[str, str]
    contact_ids: list[str] = field(default_factory=list)
    association_types: list[tuple[str, int]] = field(default_factory=list)


class FakeHubSpot:
    """The fake, started with ``with FakeHubSpot() as fake:`` (or the ``fake_hubspot`` fixture)."""

    def __init__(
        self,
        *,
        token: str = "",
        rate_limit: int = 100,
        rate_window: float = RATE_LIMIT_INTERVAL_MS / 1000,
        daily_limit: int = 250_000,
    ) -> None:
        # A token of its own: the client knows per process which (API base, token) has our properties, and a
        # later test's fake may get an earlier one's port.
        self.token = token or f"pat-na1-{uuid.uuid4()}"
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.daily_limit = daily_limit
        self.daily_used = 0
        self.scopes: set[str] = set(ALL_SCOPES)
        self.down = False
        self.send_retry_after = True  # on the rate limit's 429s
        self.account_info_status = 200
        self.invalid_email_answer = "batch"  # "batch": a 400 refusing the whole call; "multi-status": a 207
        self.missing_note_answer = "batch"  # updating a note it lacks: "batch", a 404; "multi-status", a 207
        self.tampering: dict[str, Callable[[int, dict[str, Any]], tuple[int, dict[str, Any]]]] = {}
        self.calls: Counter[str] = Counter()
        self.seen: list[Seen] = []
        self.faults: list[Fault] = []
        self.groups: dict[str, dict[str, Any]] = {
            "contactinformation": {"name": "contactinformation", "label": "Contact information", "displayOrder": -1}
        }
        self.properties: dict[str, dict[str, Any]] = {
            name: self._property(name, name, kind, field_type, "contactinformation")
            for name, (kind, field_type) in STANDARD_PROPERTIES.items()
        }
        # Created by someone else between the client's reading and its creating: they exist, but the client's
        # reading did not list them.
        self.hidden_properties: set[str] = set()
        self.contacts: dict[str, dict[str, str]] = {}  # id → properties
        self.notes: dict[str, FakeNote] = {}
        self._ids = itertools.count(50_001)
        self._accepted: deque[float] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.server = _Server(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request(re.compile(r".*")).respond_with_handler(self._answer)

    # Running.

    def __enter__(self) -> Self:
        self.server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()  # slow answers stop waiting
        self.server.stop()
        self.server.check_handler_errors()  # a bug in the fake fails the test

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def environment(self) -> dict[str, str]:
        """The settings that point a process (a worker) at this fake."""
        return {"HUBSPOT_API_BASE": self.base_url, "HUBSPOT_ACCESS_TOKEN": self.token}

    # Faults.

    def fail(
        self,
        status: int = 503,
        *,
        times: int = 1,
        path: str = "",
        method: str = "",
        skip: int = 0,
        retry_after: int | str | None = None,
        policy: str = "TEN_SECONDLY_ROLLING",
        body: bytes | None = None,
    ) -> None:
        """The next ``times`` calls answer ``status``: a 429 in the rate limit's shape (``policy``), a 3xx
        redirecting to HubSpot's own host, else HubSpot's error body (or ``body``)."""
        fault = Fault("status", times, path, method, skip, status, retry_after, policy, body)
        self.faults.append(fault)

    def slow(self, seconds: float, *, times: int = 1, path: str = "") -> None:
        """The next ``times`` calls are answered after ``seconds`` (and done: HubSpot does what it was asked)."""
        self.faults.append(Fault("slow", times, path=path, seconds=seconds))

    def malformed(self, *, times: int = 1, path: str = "", shape: str = "truncated") -> None:
        """The next ``times`` calls get a 200 that is not HubSpot's answer (and are not done)."""
        self.faults.append(Fault("malformed", times, path=path, shape=shape))

    def tamper(self, endpoint: str, change: Callable[[int, dict[str, Any]], tuple[int, dict[str, Any]]]) -> None:
        """Pass the endpoint's (done) answers through ``change``: for answers HubSpot may give and the fake does
        not make (a result left out, per-input errors in a 207)."""
        self.tampering[endpoint] = change

    # Looking.

    def contact(self, email: str) -> dict[str, str] | None:
        found = self.contact_id(email)
        return self.contacts[found] if found else None

    def contact_id(self, email: str) -> str | None:
        return next((id_ for id_, props in self.contacts.items() if props.get("email") == email.lower()), None)

    def notes_of(self, contact_id: str) -> list[FakeNote]:
        return [note for note in self.notes.values() if contact_id in note.contact_ids]

    def batch_sizes(self, endpoint: str) -> list[int]:
        return [seen.inputs for seen in self.seen if seen.endpoint == endpoint and seen.inputs is not None]

    def add_contact(self, email: str, **properties: str) -> str:
        contact_id = str(next(self._ids))
        self.contacts[contact_id] = {
            **properties,
            "email": email.lower(),
            "hs_object_id": contact_id,
            "createdate": _now(),
            "lastmodifieddate": _now(),
        }
        return contact_id

    def add_property(self, name: str, *, kind: str = "string", field_type: str = "text", group: str = "") -> None:
        self.properties[name] = self._property(name, name, kind, field_type, group or "contactinformation")

    # Serving.

    def _answer(self, request: Request) -> Response:
        try:
            adapter = ROUTES.bind("127.0.0.1")
            endpoint, arguments = adapter.match(request.path, method=request.method)
        except (NotFound, MethodNotAllowed):
            endpoint, arguments = "unknown", {}
        with self._lock:
            self.calls[endpoint] += 1
            fault = self._fault_for(request.method, request.path)
        if fault is not None and fault.kind == "slow":
            self._stopping.wait(fault.seconds)
            fault = None
        with self._lock:
            status, body, headers = self._respond(request, str(endpoint), dict(arguments), fault)
            inputs = body.get("_inputs") if isinstance(body, dict) else None
            if isinstance(body, dict):
                body.pop("_inputs", None)
            self.seen.append(
                Seen(
                    request.method,
                    request.path,
                    str(endpoint),
                    status,
                    inputs,
                    request.headers.get("Authorization", ""),
                )
            )
        if isinstance(body, bytes):
            return Response(body, status=status, headers=headers, content_type="application/json;charset=utf-8")
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json;charset=utf-8")

    def _fault_for(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.path not in path or fault.method not in {"", method}:
                continue
            if fault.skip:
                fault.skip -= 1
                return None
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            return fault
        return None

    def _respond(
        self, request: Request, endpoint: str, arguments: dict[str, Any], fault: Fault | None
    ) -> tuple[int, Any, dict[str, str]]:
        if self.down:
            error = _HubSpotError(503, "Service unavailable", "SERVICE_UNAVAILABLE")
            return error.status, error.body, {}
        if fault is not None and fault.kind == "status":
            return self._injected(fault, request.path)
        if fault is not None and fault.kind == "malformed":
            return 200, self._garbage(fault.shape), self._rate_headers()
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            error = _HubSpotError(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
                "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
            return error.status, error.body, {}
        now = time.monotonic()
        while self._accepted and self._accepted[0] <= now - self.rate_window:
            self._accepted.popleft()
        if len(self._accepted) >= self.rate_limit:
            return self._rate_limited(self._accepted[0] + self.rate_window - now)
        self._accepted.append(now)
        self.daily_used += 1
        headers = self._rate_headers()
        scope = SCOPE_OF.get(endpoint)
        if scope and scope not in self.scopes:
            error = _HubSpotError(
                403,
                "This app hasn't been granted all required scopes to make this call. Read more about required "
                "scopes here: https://developers.hubspot.com/scopes.",
                "MISSING_SCOPES",
                errors=[
                    {
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": [scope]},
                    }
                ],
                links={"scopes": "https://developers.hubspot.com/scopes"},
            )
            return error.status, error.body, headers
        handler: Callable[..., tuple[int, Any]] = getattr(self, f"_do_{endpoint}", self._do_unknown)
        try:
            payload = json.loads(request.get_data() or b"null")
        except ValueError:
            error = _HubSpotError(400, "Invalid input JSON: the body is not JSON", "VALIDATION_ERROR")
            return error.status, error.body, headers
        try:
            status, body = handler(payload, **arguments)
        except _HubSpotError as error:
            return error.status, error.body, headers
        if endpoint in self.tampering:
            status, body = self.tampering[endpoint](status, body)
        return status, body, headers

    def _rate_headers(self, remaining: int | None = None) -> dict[str, str]:
        left = self.rate_limit - len(self._accepted) if remaining is None else remaining
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.rate_window * 1000)),
            "X-HubSpot-RateLimit-Max": str(self.rate_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, left)),
            "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - self.daily_used)),
        }

    def _rate_limited(
        self, wait: float, retry_after: int | str | None = None, policy: str = "TEN_SECONDLY_ROLLING"
    ) -> tuple[int, Any, dict[str, str]]:
        body = {
            "status": "error",
            "message": f"You have reached your {policy.lower()} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "groupName": "cos_apps_api",
        }
        headers = self._rate_headers(remaining=0)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        elif self.send_retry_after:
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return 429, body, headers

    def _injected(self, fault: Fault, path: str) -> tuple[int, Any, dict[str, str]]:
        if fault.status == 429:
            status, body, headers = self._rate_limited(self.rate_window, fault.retry_after, fault.policy)
            if fault.retry_after is None:
                headers.pop("Retry-After", None)
            if fault.policy == "DAILY":
                headers["X-HubSpot-RateLimit-Daily-Remaining"] = "0"
            return status, fault.body or body, headers
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if 300 <= fault.status < 400:
            headers["Location"] = f"https://api.hubapi.com{path}"
        category = {500: "INTERNAL_ERROR", 400: "VALIDATION_ERROR"}.get(fault.status, "UNAVAILABLE")
        error = _HubSpotError(fault.status, "injected error", category)
        return error.status, fault.body or error.body, headers

    @staticmethod
    def _garbage(shape: str) -> bytes | dict[str, Any]:
        if shape == "html":
            return b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        if shape == "shape":
            return {"status": "COMPLETE", "results": "none", "portalId": None}
        return b'{"status":"COMPLETE","results":[{"id":"5'

    # Endpoints: each takes the request's JSON (and the path's arguments) and answers (status, JSON).

    def _do_unknown(self, payload: Any, **arguments: Any) -> tuple[int, Any]:
        raise _HubSpotError(404, "resource not found", "OBJECT_NOT_FOUND")

    def _do_account_info(self, payload: Any) -> tuple[int, Any]:
        if self.account_info_status != 200:
            raise _HubSpotError(
                self.account_info_status, "This app cannot read the account's details", "MISSING_SCOPES"
            )
        details = {
            "portalId": PORTAL_ID,
            "accountType": "STANDARD",
            "timeZone": "Europe/London",
            "companyCurrency": "EUR",
            "additionalCurrencies": [],
            "utcOffset": "+00:00",
            "utcOffsetMilliseconds": 0,
            "uiDomain": "app-eu1.hubspot.com",
            "dataHostingLocation": "eu1",
        }
        return 200, details

    def _do_group_get(self, payload: Any, object_type: str, name: str) -> tuple[int, Any]:
        _contacts_only(object_type)
        if name not in self.groups:
            raise _HubSpotError(
                404, f"Unable to find property group {name} for object type {object_type}", "OBJECT_NOT_FOUND"
            )
        return 200, self.groups[name]

    def _do_group_create(self, payload: Any, object_type: str) -> tuple[int, Any]:
        _contacts_only(object_type)
        name, label = _text(payload, "name"), _text(payload, "label")
        if name in self.groups:
            raise _HubSpotError(409, f"A property group named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
        self.groups[name] = {
            "name": name,
            "label": label,
            "displayOrder": payload.get("displayOrder", -1),
            "archived": False,
        }
        return 201, self.groups[name]

    def _do_properties_list(self, payload: Any, object_type: str) -> tuple[int, Any]:
        _contacts_only(object_type)
        listed = [prop for name, prop in self.properties.items() if name not in self.hidden_properties]
        return 200, {"results": listed}

    def _do_property_create(self, payload: Any, object_type: str) -> tuple[int, Any]:
        _contacts_only(object_type)
        name, label = _text(payload, "name"), _text(payload, "label")
        kind, field_type, group = _text(payload, "type"), _text(payload, "fieldType"), _text(payload, "groupName")
        if field_type not in FIELD_TYPES.get(kind, set()):
            raise _HubSpotError(400, f"Invalid fieldType {field_type} for type {kind}", "VALIDATION_ERROR")
        if group not in self.groups:
            raise _HubSpotError(400, f"Property group {group} does not exist", "VALIDATION_ERROR")
        if name in self.properties:
            raise _HubSpotError(409, f"Property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
        created = self._property(name, label, kind, field_type, group, str(payload.get("description", "")))
        self.properties[name] = created
        return 201, created

    def _do_contacts_upsert(self, payload: Any) -> tuple[int, Any]:
        inputs = _inputs(payload)
        emails = [_text(item, "id").lower() for item in inputs]
        for item in inputs:
            if item.get("idProperty") != "email":
                raise _HubSpotError(400, "Unable to perform upsert by non-unique 0-1 property", "VALIDATION_ERROR")
            self._check_properties(_properties(item), self.properties)
        repeated = sorted({email for email in emails if emails.count(email) > 1})
        if repeated:
            raise _HubSpotError(400, f"Duplicate IDs found in batch input: {repeated}.", "VALIDATION_ERROR")
        invalid = [email for email in emails if not EMAIL.match(email)]
        if invalid and self.invalid_email_answer == "batch":
            raise _invalid_properties(
                *(_problem("email", "INVALID_EMAIL", f"Email address {e} is invalid") for e in invalid)
            )
        stamp = _now()
        results, errors = [], []
        for item, email in zip(inputs, emails, strict=True):
            if email in invalid:
                errors.append(
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": f"Email address {email} is invalid",
                        "context": {"ids": [email]},
                    }
                )
                continue
            contact_id = self.contact_id(email)
            new = contact_id is None
            contact_id = contact_id or str(next(self._ids))
            written = {**_properties(item), "email": email}
            stored = self.contacts.setdefault(contact_id, {"hs_object_id": contact_id, "createdate": stamp})
            stored.update(written)
            stored["lastmodifieddate"] = stamp
            result = {
                "id": contact_id,
                "properties": {**written, "hs_object_id": contact_id, "lastmodifieddate": stamp},
                "createdAt": stored["createdate"],
                "updatedAt": stamp,
                "archived": False,
                "new": new,
            }
            if item.get("objectWriteTraceId"):
                result["objectWriteTraceId"] = item["objectWriteTraceId"]
            results.append(result)
        # HubSpot does not promise the inputs' order: answered backwards, so the client must match by e-mail.
        return _batch_answer(list(reversed(results)), errors, len(inputs), success=200)

    def _do_notes_create(self, payload: Any) -> tuple[int, Any]:
        inputs = _inputs(payload)
        for item in inputs:
            self._check_note(item, creating=True)
        results = [self._create_note(item) for item in inputs]
        return _batch_answer(list(reversed(results)), [], len(inputs), success=201)

    def _do_note_create(self, payload: Any) -> tuple[int, Any]:
        if not isinstance(payload, dict):
            raise _HubSpotError(400, "Invalid input JSON", "VALIDATION_ERROR")
        self._check_note(payload, creating=True)
        return 201, self._create_note(payload)

    def _do_notes_update(self, payload: Any) -> tuple[int, Any]:
        inputs = _inputs(payload)
        ids = [_text(item, "id") for item in inputs]
        if len(set(ids)) < len(ids):
            raise _HubSpotError(400, "Duplicate IDs found in batch input", "VALIDATION_ERROR")
        missing = [note_id for note_id in ids if note_id not in self.notes]
        message = "Could not get some NOTE objects, they may be deleted or not exist. Check that ids are valid."
        if missing and self.missing_note_answer == "batch":
            raise _HubSpotError(404, message, "OBJECT_NOT_FOUND", context={"ids": missing})
        for item in inputs:
            self._check_note(item, creating=False)
        results = [self._update_note(item["id"], _properties(item)) for item in inputs if item["id"] not in missing]
        errors = [{"status": "error", "category": "OBJECT_NOT_FOUND", "message": message, "context": {"ids": missing}}]
        return _batch_answer(results, errors if missing else [], len(inputs), success=200)

    def _do_note_update(self, payload: Any, note_id: str) -> tuple[int, Any]:
        if note_id not in self.notes:
            raise _HubSpotError(
                404, f"Object not found. objectId are usually numeric. (id {note_id})", "OBJECT_NOT_FOUND"
            )
        self._check_note(payload, creating=False)
        return 200, self._update_note(note_id, _properties(payload))

    # Helpers.

    def _check_properties(self, values: dict[str, Any], known: dict[str, dict[str, Any]]) -> None:
        problems = []
        for name, value in values.items():
            if name not in known:
                problems.append(_problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
            elif not isinstance(value, str):
                problems.append(_problem(name, "INVALID_TYPE", f"{value!r} is not a string"))
            elif known[name]["type"] == "number" and value != "" and not _is_number(value):
                problems.append(_problem(name, "INVALID_INTEGER", f"{value!r} is not a valid number"))
        if problems:
            raise _invalid_properties(*problems)

    def _check_note(self, item: dict[str, Any], *, creating: bool) -> None:
        properties = _properties(item)
        self._check_properties(properties, {name: {"type": "string"} for name in NOTE_PROPERTIES})
        if creating and not properties.get("hs_timestamp"):
            raise _invalid_properties(_problem("hs_timestamp", "REQUIRED", "hs_timestamp is required"))
        associations = (item.get("associations") or []) if creating else []
        for association in associations:
            to = (association.get("to") or {}).get("id")
            if str(to) not in self.contacts:
                raise _HubSpotError(400, f"No contact with id {to} to associate with", "VALIDATION_ERROR")
            for kind in association.get("types") or []:
                if (kind.get("associationCategory"), kind.get("associationTypeId")) != (
                    "HUBSPOT_DEFINED",
                    NOTE_TO_CONTACT,
                ):
                    raise _HubSpotError(
                        400, f"Invalid association type {kind} from note to contact", "VALIDATION_ERROR"
                    )

    def _create_note(self, item: dict[str, Any]) -> dict[str, Any]:
        note_id = str(next(self._ids))
        associations = item.get("associations") or []
        note = FakeNote(
            id=note_id,
            properties={**_properties(item), "hs_object_id": note_id},
            contact_ids=[str(a["to"]["id"]) for a in associations],
            association_types=[
                (kind["associationCategory"], kind["associationTypeId"]) for a in associations for kind in a["types"]
            ],
        )
        self.notes[note_id] = note
        result = {
            "id": note_id,
            "properties": dict(note.properties),
            "createdAt": _now(),
            "updatedAt": _now(),
            "archived": False,
        }
        if item.get("objectWriteTraceId"):
            result["objectWriteTraceId"] = item["objectWriteTraceId"]
        return result

    def _update_note(self, note_id: str, properties: dict[str, str]) -> dict[str, Any]:
        note = self.notes[note_id]
        note.properties.update(properties)
        return {"id": note_id, "properties": dict(note.properties), "updatedAt": _now(), "archived": False}

    @staticmethod
    def _property(
        name: str, label: str, kind: str, field_type: str, group: str, description: str = ""
    ) -> dict[str, Any]:
        return {
            "name": name,
            "label": label,
            "type": kind,
            "fieldType": field_type,
            "groupName": group,
            "description": description,
            "hidden": False,
            "formField": False,
            "hasUniqueValue": name == "email",
            "options": [],
        }


def _batch_answer(results: list[Any], errors: list[Any], inputs: int, *, success: int) -> tuple[int, Any]:
    stamp = _now()
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": stamp, "completedAt": stamp}
    body["_inputs"] = inputs  # for the fake's own record; taken out before answering
    if errors:
        body.update(numErrors=len(errors), errors=errors)
        return 207, body
    return success, body


def _inputs(payload: Any) -> list[dict[str, Any]]:
    inputs = payload.get("inputs") if isinstance(payload, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(item, dict) for item in inputs):
        raise _HubSpotError(400, "Invalid input JSON: inputs must be a list of objects", "VALIDATION_ERROR")
    if len(inputs) > BATCH_LIMIT:
        raise _HubSpotError(
            400, f"Batch input size {len(inputs)} exceeds the limit of {BATCH_LIMIT}", "VALIDATION_ERROR"
        )
    return inputs


def _properties(item: dict[str, Any]) -> dict[str, Any]:
    properties = item.get("properties") or {}
    if not isinstance(properties, dict):
        raise _HubSpotError(400, "Invalid input JSON: properties must be an object", "VALIDATION_ERROR")
    return properties


def _text(item: Any, key: str) -> str:
    value = item.get(key) if isinstance(item, dict) else None
    if not isinstance(value, str) or not value:
        raise _HubSpotError(400, f"Invalid input JSON: {key} is required", "VALIDATION_ERROR")
    return value


def _contacts_only(object_type: str) -> None:
    if object_type != "contacts":
        raise _HubSpotError(400, f"The fake knows contacts only, not {object_type}", "VALIDATION_ERROR")


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def running(settings: Any, **options: Any) -> Iterator[FakeHubSpot]:
    """The ``fake_hubspot`` fixture's body (tests/crm/conftest.py): a running fake, the settings pointing at it."""
    with FakeHubSpot(**options) as fake:
        settings.HUBSPOT_ACCESS_TOKEN = fake.token
        settings.HUBSPOT_API_BASE = fake.base_url
        settings.CRM_SYNC_TIMEOUT = 5.0
        yield fake
