"""A Salesforce org in memory, answering the HTTP calls of simple-salesforce (and so of ``SalesforceClient``).

``responses`` patches requests' transport for the whole process while the org is started, so the fake answers
every thread: a test's, or an in-process Celery worker's. It knows the calls the CRM sync makes, with the vendor's
own shapes: the SOAP login (any ``https://*.salesforce.com/services/Soap/u/<version>``), sObject Collections
upserts of Leads and Tasks by external id, a PATCH of one Lead by Id, and SOQL queries of the few shapes the client
sends (``SELECT fields FROM Lead WHERE Field = '...' | Field IN (...) [ORDER BY CreatedDate] [LIMIT n]``).

It keeps leads, tasks and contacts; enforces the rules the client must cope with (LastName and Company required, a
valid e-mail, converted leads frozen, an optional duplicate rule on e-mail, unknown fields refused, 200 records a
call, the daily API allowance); counts calls; and fails on request: ``fail_next(kind, times)`` for the next REST
calls, ``down`` for every call including the login, ``refuse_logins`` for a wrong password, ``reject(key, ...)`` for
one record. Use it as the ``fake_salesforce`` fixture (tests/crm/conftest.py) or as a context manager::

    with FakeSalesforceOrg() as org, override_settings(**org.settings()):
        ...
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, TypedDict
from urllib.parse import parse_qs, urlsplit

import requests
import responses

INSTANCE = "demo-portal-dev-ed.my.salesforce.com"
ORG_ID = "00D5g000004DPORTAL"
LOGIN_URL = re.compile(r"https://[\w.-]+\.salesforce\.com/services/Soap/u/[\d.]+/?$")
PARTNER_NS = "urn:partner.soap.sforce.com"

# The fault kinds of fail_next() and down.
EXPIRED_SESSION = "expired_session"  # 401 INVALID_SESSION_ID
REQUEST_LIMIT = "request_limit"  # 403 REQUEST_LIMIT_EXCEEDED
SERVER_ERROR = "server_error"  # 500 UNKNOWN_EXCEPTION
UNAVAILABLE = "unavailable"  # 503, an HTML maintenance page
READ_TIMEOUT = "read_timeout"  # requests.exceptions.ReadTimeout
CONNECT_TIMEOUT = "connect_timeout"  # requests.exceptions.ConnectTimeout
CONNECTION_ERROR = "connection_error"  # requests.exceptions.ConnectionError
NOT_JSON = "not_json"  # 200 with an HTML body
WRONG_SHAPE = "wrong_shape"  # 200 with a JSON object where a list belongs
JSON_NUMBER = "json_number"  # 200 with a bare JSON number
SHORT_RESULT = "short_result"  # the real answer, one result short
FAULTS = frozenset(
    {
        EXPIRED_SESSION,
        REQUEST_LIMIT,
        SERVER_ERROR,
        UNAVAILABLE,
        READ_TIMEOUT,
        CONNECT_TIMEOUT,
        CONNECTION_ERROR,
        NOT_JSON,
        WRONG_SHAPE,
        JSON_NUMBER,
        SHORT_RESULT,
    }
)

LEAD_FIELDS = frozenset(
    {
        "Email",
        "FirstName",
        "LastName",
        "Company",
        "Title",
        "Phone",
        "MobilePhone",
        "Country",
        "CountryCode",
        "State",
        "City",
        "Street",
        "PostalCode",
        "Website",
        "Industry",
        "LeadSource",
        "Rating",
        "Status",
        "Description",
        "NumberOfEmployees",
        "AnnualRevenue",
        "OwnerId",
    }
)
TASK_FIELDS = frozenset(
    {"WhoId", "WhatId", "Subject", "ActivityDate", "Status", "Priority", "Description", "OwnerId", "Type"}
)
READ_ONLY = frozenset({"Id", "IsConverted", "ConvertedContactId", "CreatedDate"})
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SOQL = re.compile(
    r"^SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<sobject>\w+)"
    r"(?:\s+WHERE\s+(?P<field>\w+)\s*(?:(?P<eq>=)\s*(?P<value>'(?:[^'\\]|\\.)*')|IN\s*\((?P<values>.*)\)))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<direction>ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
SOQL_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'")
SOQL_UNESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
ID_PREFIXES = {"Lead": "00Q", "Task": "00T", "Contact": "003"}
Answer = tuple[int, dict[str, str], str]


class ClientKwargs(TypedDict):
    username: str
    password: str
    security_token: str
    lead_id_field: str
    task_id_field: str


@dataclass(frozen=True)
class FakeCall:
    """One request the org received: ``kind`` is login, lead_upsert, task_upsert, lead_patch, query or other."""

    kind: str
    method: str
    url: str
    timeout: Any  # what requests was given: the client must always give one
    status: int  # the answer's HTTP status; 0 when the fake raised a transport error
    size: int = 0  # records in a Collections call


def rest_error(code: str, message: str, fields: list[str] | None = None) -> list[dict[str, Any]]:
    """A REST API error body: a JSON list of {message, errorCode[, fields]}."""
    error: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        error["fields"] = fields
    return [error]


def record_error(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    """One record's failure inside a Collections answer."""
    return {"success": False, "errors": [{"statusCode": code, "message": message, "fields": fields or []}]}


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", lambda m: SOQL_UNESCAPES.get(m.group(1), m.group(1)), literal)


class FakeSalesforceOrg:
    """An org with one API user, its leads, tasks and contacts, its API allowance and its failures on demand."""

    def __init__(
        self,
        *,
        username: str = "sync@demo-portal.example",
        password: str = "correct horse",  # noqa: S107 - the fake org's own test credentials
        security_token: str = "TOKEN123",  # noqa: S107
        lead_id_field: str = "Demo_Portal_Id__c",
        task_id_field: str = "Demo_Portal_Activity_Id__c",
        api_limit: int = 15_000,
        duplicate_rule: bool = False,
    ) -> None:
        self.username = username
        self.password = password
        self.security_token = security_token
        self.lead_id_field = lead_id_field
        self.task_id_field = task_id_field
        self.api_limit = api_limit  # the rolling 24-hour allowance, reported in Sforce-Limit-Info
        self.api_used = 0  # REST calls answered so far (logins do not count, as in Salesforce)
        self.duplicate_rule = duplicate_rule  # a new lead with an existing lead's e-mail → DUPLICATES_DETECTED
        self.refuse_logins = False  # every login answers INVALID_LOGIN
        self.down: str | None = None  # a fault kind every call answers, the login included: an outage
        self.extra_lead_fields: set[str] = set()  # custom Lead fields the org has besides our external id
        self.leads: dict[str, dict[str, Any]] = {}  # by Id
        self.tasks: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.calls: list[FakeCall] = []
        self.sessions: set[str] = set()
        self.created = {"Lead": 0, "Task": 0, "Contact": 0}
        self._faults: list[tuple[str, str | None]] = []  # (fault, the kind of call it waits for, or None)
        self._rejections: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._mock: responses.RequestsMock | None = None

    # Lifecycle

    def start(self) -> FakeSalesforceOrg:
        """Answer Salesforce's URLs in every thread until ``stop()``; other URLs fail, but localhost passes."""
        mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        mock.add_passthru(re.compile(r"https?://(localhost|127\.0\.0\.1)[:/]"))
        mock.add_callback(responses.POST, LOGIN_URL, callback=self._login)
        instance = re.compile(rf"https://{re.escape(INSTANCE)}/.*")
        for method in (responses.GET, responses.POST, responses.PATCH, responses.DELETE):
            mock.add_callback(method, instance, callback=self._rest)
        mock.start()
        self._mock = mock
        return self

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock.reset()
            self._mock = None

    def __enter__(self) -> FakeSalesforceOrg:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client_kwargs(self) -> ClientKwargs:
        """The credentials and fields of ``SalesforceClient(**org.client_kwargs(), ...)``."""
        return {
            "username": self.username,
            "password": self.password,
            "security_token": self.security_token,
            "lead_id_field": self.lead_id_field,
            "task_id_field": self.task_id_field,
        }

    def settings(self) -> dict[str, str]:
        """Settings that point ``SalesforceClient.from_settings()`` at this org (for ``override_settings``)."""
        return {
            "SALESFORCE_USERNAME": self.username,
            "SALESFORCE_PASSWORD": self.password,
            "SALESFORCE_SECURITY_TOKEN": self.security_token,
            "SALESFORCE_DOMAIN": "login",
            "SALESFORCE_LEAD_ID_FIELD": self.lead_id_field,
            "SALESFORCE_TASK_ID_FIELD": self.task_id_field,
        }

    # Failures on demand

    def fail_next(self, kind: str, times: int = 1, *, on: str | None = None) -> None:
        """The next ``times`` REST calls (not logins) answer with this fault instead (see FAULTS); with ``on``, the
        next calls of that kind only (lead_upsert, task_upsert, lead_patch, query)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}: one of {sorted(FAULTS)}")
        with self._lock:
            self._faults.extend([(kind, on)] * times)

    def expire_sessions(self) -> None:
        """Every session given so far is no longer valid: the next call answers 401 INVALID_SESSION_ID."""
        with self._lock:
            self.sessions.clear()

    def reject(self, key: str, code: str, message: str, fields: list[str] | None = None) -> None:
        """Upserts of the Lead or Task with this external id fail with this per-record error until ``accept``."""
        with self._lock:
            self._rejections[key] = record_error(code, message, fields)

    def accept(self, key: str) -> None:
        with self._lock:
            self._rejections.pop(key, None)

    # The org's data, for set-up and assertions

    def add_lead(self, **fields: Any) -> str:
        """A lead that was there before us (a web-to-lead form, an import): no external id unless given."""
        with self._lock:
            return self._create("Lead", {"IsConverted": False, "ConvertedContactId": None, **fields})

    def convert(self, lead_id_or_key: str) -> str:
        """Convert a lead, as a sales rep does: a Contact is made, the lead's tasks move to it. Returns its Id."""
        with self._lock:
            lead = self.leads.get(lead_id_or_key) or self.lead(lead_id_or_key)
            if lead is None or lead["IsConverted"]:
                raise ValueError(f"no unconverted lead {lead_id_or_key}")
            names = {name: lead.get(name) for name in ("FirstName", "LastName", "Email", "Title", "Phone")}
            contact_id = self._create("Contact", names)
            lead.update(IsConverted=True, ConvertedContactId=contact_id)
            for task in self.tasks.values():
                if task.get("WhoId") == lead["Id"]:
                    task["WhoId"] = contact_id
            return contact_id

    def lead(self, key: str) -> dict[str, Any] | None:
        """The lead with our external id ``key``."""
        return next((lead for lead in self.leads.values() if lead.get(self.lead_id_field) == key), None)

    def task(self, key: str) -> dict[str, Any] | None:
        return next((task for task in self.tasks.values() if task.get(self.task_id_field) == key), None)

    def tasks_of(self, who_id: str) -> list[dict[str, Any]]:
        return [task for task in self.tasks.values() if task.get("WhoId") == who_id]

    def count(self, kind: str) -> int:
        """How many calls of this kind the org received (failed ones included)."""
        return sum(1 for call in self.calls if call.kind == kind)

    def sizes(self, kind: str) -> list[int]:
        """The number of records of each Collections call of this kind, in order."""
        return [call.size for call in self.calls if call.kind == kind]

    # The login

    def _login(self, request: requests.PreparedRequest) -> Answer:
        with self._lock:
            timeout = getattr(request, "req_kwargs", {}).get("timeout")
            if self.down is not None:
                return self._login_outage(self.down, str(request.url), timeout)
            body = ET.fromstring(_text_body(request))  # noqa: S314 - our own client's request, in-process
            username = body.findtext(f".//{{{PARTNER_NS}}}username")
            password = body.findtext(f".//{{{PARTNER_NS}}}password")
            if self.refuse_logins or username != self.username or password != self.password + self.security_token:
                self.calls.append(FakeCall("login", "POST", str(request.url), timeout, 500))
                return 500, {"Content-Type": "text/xml"}, LOGIN_FAULT
            session_id = f"{ORG_ID}!AQ{secrets.token_urlsafe(24)}"
            self.sessions.add(session_id)
            self.calls.append(FakeCall("login", "POST", str(request.url), timeout, 200))
            version = str(request.url).rstrip("/").rsplit("/", 1)[1]
            return (
                200,
                {"Content-Type": "text/xml"},
                LOGIN_RESPONSE.format(
                    instance=INSTANCE, version=version, org=ORG_ID, session=session_id, username=self.username
                ),
            )

    def _login_outage(self, fault: str, url: str, timeout: Any) -> Answer:
        """The login during an outage: no answer, a 503 in plain text, a 500 page without a SOAP fault, or a 200
        that is not XML at all."""
        transport = _transport_fault(fault)
        if transport is not None:
            self.calls.append(FakeCall("login", "POST", url, timeout, 0))
            raise transport
        answer: Answer = (503, {"Content-Type": "text/plain"}, "Service Unavailable")
        if fault == SERVER_ERROR:
            answer = (500, {"Content-Type": "text/html"}, MAINTENANCE_PAGE)
        elif fault in (NOT_JSON, WRONG_SHAPE, JSON_NUMBER, SHORT_RESULT):
            answer = (200, {"Content-Type": "text/html"}, "<html><body>Down for maintenance<br></body></html>")
        self.calls.append(FakeCall("login", "POST", url, timeout, answer[0]))
        return answer

    # The REST API

    def _rest(self, request: requests.PreparedRequest) -> Answer:
        with self._lock:
            url = urlsplit(str(request.url))
            match = re.match(r"/services/data/v[\d.]+/(?P<path>.*)", url.path)
            path = match["path"].rstrip("/") if match else ""
            kind, handler, size = self._route(str(request.method), path, request)
            timeout = getattr(request, "req_kwargs", {}).get("timeout")
            fault = self.down or self._next_fault(kind)
            if fault is not None and fault != SHORT_RESULT:
                status, headers, text = self._fault_answer(fault, kind, str(request.method), str(request.url), timeout)
            elif str(request.headers.get("Authorization", "")).removeprefix("Bearer ") not in self.sessions:
                status, headers, text = self._json(401, rest_error("INVALID_SESSION_ID", "Session expired or invalid"))
            elif self.api_used >= self.api_limit:
                status, headers, text = self._json(
                    403, rest_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
                )
            else:
                self.api_used += 1
                status, body = handler()
                if fault == SHORT_RESULT and isinstance(body, list):
                    body = body[:-1]
                status, headers, text = self._json(status, body)
            self.calls.append(FakeCall(kind, str(request.method), str(request.url), timeout, status, size))
            return status, headers, text

    def _route(self, method: str, path: str, request: requests.PreparedRequest) -> tuple[str, Any, int]:
        parts = path.split("/")
        if method == "PATCH" and len(parts) == 4 and parts[:2] == ["composite", "sobjects"]:
            body = _json_body(request)
            records = body.get("records") if isinstance(body, dict) else None
            size = len(records) if isinstance(records, list) else 0
            kind = f"{parts[2].lower()}_upsert"
            return kind, lambda: self._collection_upsert(parts[2], parts[3], body), size
        if method == "PATCH" and len(parts) == 3 and parts[:2] == ["sobjects", "Lead"]:
            return "lead_patch", lambda: self._patch_lead(parts[2], _json_body(request)), 0
        if method == "GET" and path == "query":
            query = parse_qs(urlsplit(str(request.url)).query).get("q", [""])[0]
            return "query", lambda: self._query(query), 0
        return "other", lambda: (404, rest_error("NOT_FOUND", "The requested resource does not exist")), 0

    def _collection_upsert(self, sobject: str, id_field: str, body: Any) -> tuple[int, Any]:
        expected_field = {"Lead": self.lead_id_field, "Task": self.task_id_field}.get(sobject)
        if expected_field is None:
            return 404, rest_error("NOT_FOUND", "The requested resource does not exist")
        if id_field != expected_field:
            return 404, rest_error(
                "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {id_field}"
            )
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            return 400, rest_error("JSON_PARSER_ERROR", "Cannot deserialize instance of sobject collection")
        if len(records) > 200:
            return 400, rest_error(
                "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call"
            )
        known = (LEAD_FIELDS | self.extra_lead_fields if sobject == "Lead" else TASK_FIELDS) | {id_field}
        for record in records:
            if not isinstance(record, dict) or (record.get("attributes") or {}).get("type") != sobject:
                return 400, rest_error("INVALID_TYPE", f"Each record needs attributes with type {sobject}")
            unknown = sorted(set(record) - known - {"attributes"})
            if unknown:
                return 400, rest_error("INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {sobject}")
        if body.get("allOrNone"):
            return 400, rest_error("INVALID_API_INPUT", "this fake supports allOrNone false only")
        upsert = self._upsert_lead if sobject == "Lead" else self._upsert_task
        return 200, [upsert({k: v for k, v in record.items() if k != "attributes"}) for record in records]

    def _upsert_lead(self, fields: dict[str, Any]) -> dict[str, Any]:
        key = fields.get(self.lead_id_field)
        if not key:
            return record_error("MISSING_ARGUMENT", f"{self.lead_id_field} not specified", [self.lead_id_field])
        if key in self._rejections:
            return self._rejections[key]
        lead = self.lead(key)
        if lead is not None and lead["IsConverted"]:
            return record_error("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        merged = {**(lead or {}), **fields}
        missing = [name for name in ("LastName", "Company") if not merged.get(name)]
        if missing:
            return record_error("REQUIRED_FIELD_MISSING", f"Required fields are missing: {missing}", missing)
        if merged.get("Email") and not EMAIL.match(merged["Email"]):
            return record_error("INVALID_EMAIL_ADDRESS", f"Email: invalid email address: {merged['Email']}", ["Email"])
        if lead is None and self._duplicate_of(merged.get("Email"), None):
            return record_error("DUPLICATES_DETECTED", "Use one of these records?")
        if lead is None:
            lead_id = self._create("Lead", {"IsConverted": False, "ConvertedContactId": None, **fields})
            return {"id": lead_id, "success": True, "errors": [], "created": True}
        lead.update(fields)
        return {"id": lead["Id"], "success": True, "errors": [], "created": False}

    def _upsert_task(self, fields: dict[str, Any]) -> dict[str, Any]:
        key = fields.get(self.task_id_field)
        if not key:
            return record_error("MISSING_ARGUMENT", f"{self.task_id_field} not specified", [self.task_id_field])
        if key in self._rejections:
            return self._rejections[key]
        who_id = fields.get("WhoId")
        if who_id in self.leads and self.leads[who_id]["IsConverted"]:
            return record_error("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", ["WhoId"])
        if who_id is not None and who_id not in self.leads and who_id not in self.contacts:
            return record_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["WhoId"])
        task = self.task(key)
        if task is None:
            task_id = self._create("Task", fields)
            return {"id": task_id, "success": True, "errors": [], "created": True}
        task.update(fields)
        return {"id": task["Id"], "success": True, "errors": [], "created": False}

    def _patch_lead(self, lead_id: str, fields: Any) -> tuple[int, Any]:
        lead = self.leads.get(lead_id)
        if lead is None:
            return 404, rest_error("NOT_FOUND", "The requested resource does not exist")
        if not isinstance(fields, dict):
            return 400, rest_error("JSON_PARSER_ERROR", "Cannot deserialize instance of Lead")
        unknown = sorted(set(fields) - LEAD_FIELDS - self.extra_lead_fields - {self.lead_id_field})
        if unknown:
            return 400, rest_error("INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type Lead")
        if lead["IsConverted"]:
            return 400, rest_error("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
        key = fields.get(self.lead_id_field)
        owner = self.lead(key) if key else None
        if owner is not None and owner["Id"] != lead_id:
            message = f"duplicate value found: {self.lead_id_field} duplicates value on record with id: {owner['Id']}"
            return 400, rest_error("DUPLICATE_VALUE", message, [])
        if self._duplicate_of(fields.get("Email", lead.get("Email")), lead_id):
            return 400, rest_error("DUPLICATES_DETECTED", "Use one of these records?", [])
        lead.update(fields)
        return 204, None

    def _query(self, soql: str) -> tuple[int, Any]:
        match = SOQL.match(soql.strip())
        if match is None:
            return 400, rest_error("MALFORMED_QUERY", f"this fake cannot read: {soql}")
        table = {"Lead": self.leads, "Task": self.tasks, "Contact": self.contacts}.get(match["sobject"])
        if table is None:
            return 400, rest_error("INVALID_TYPE", f"sObject type '{match['sobject']}' is not supported.")
        fields = [name.strip() for name in match["fields"].split(",")]
        rows = list(table.values())
        if match["field"]:
            raw = [match["value"]] if match["eq"] else SOQL_STRING.findall(f"{match['values']}")
            wanted = {_unquote(value[1:-1] if match["eq"] else value) for value in raw}
            if match["field"].lower() == "email":  # text comparison in SOQL ignores case
                wanted = {value.lower() for value in wanted}
                rows = [row for row in rows if str(row.get("Email") or "").lower() in wanted]
            else:
                rows = [row for row in rows if row.get(match["field"]) in wanted]
        if match["order"]:
            rows.sort(key=lambda row: str(row.get(match["order"]) or ""), reverse=match["direction"] == "DESC")
        if match["limit"]:
            rows = rows[: int(match["limit"])]
        sobject = match["sobject"]
        records = [
            {
                "attributes": {"type": sobject, "url": f"/services/data/v59.0/sobjects/{sobject}/{row['Id']}"},
                **{name: row.get(name) for name in fields},
            }
            for row in rows
        ]
        return 200, {"totalSize": len(records), "done": True, "records": records}

    # Helpers

    def _next_fault(self, kind: str) -> str | None:
        for index, (fault, on) in enumerate(self._faults):
            if on is None or on == kind:
                del self._faults[index]
                return fault
        return None

    def _create(self, sobject: str, fields: dict[str, Any]) -> str:
        number = next(self._ids)
        record_id = f"{ID_PREFIXES[sobject]}5g00000{number:05d}AAA"  # 18 characters, like Salesforce's
        table = {"Lead": self.leads, "Task": self.tasks, "Contact": self.contacts}[sobject]
        table[record_id] = {**fields, "Id": record_id, "CreatedDate": f"2025-01-01T00:00:00.{number:06d}Z"}
        self.created[sobject] += 1
        return record_id

    def _duplicate_of(self, email: Any, lead_id: str | None) -> bool:
        if not self.duplicate_rule or not email:
            return False
        return any(
            str(lead.get("Email") or "").lower() == str(email).lower() and not lead["IsConverted"]
            for lead in self.leads.values()
            if lead["Id"] != lead_id
        )

    def _json(self, status: int, body: Any) -> Answer:
        headers = {
            "Content-Type": "application/json;charset=UTF-8",
            "Sforce-Limit-Info": f"api-usage={self.api_used}/{self.api_limit}",
        }
        return status, headers, "" if body is None else json.dumps(body)

    def _fault_answer(self, fault: str, kind: str, method: str, url: str, timeout: Any) -> Answer:
        transport = _transport_fault(fault)
        if transport is not None:
            self.calls.append(FakeCall(kind, method, url, timeout, 0))
            raise transport
        if fault == EXPIRED_SESSION:
            return self._json(401, rest_error("INVALID_SESSION_ID", "Session expired or invalid"))
        if fault == REQUEST_LIMIT:
            return self._json(403, rest_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
        if fault == SERVER_ERROR:
            message = "An unexpected error occurred. Please include this ErrorId if you contact support: 1 (-1)"
            return self._json(500, rest_error("UNKNOWN_EXCEPTION", message))
        if fault == UNAVAILABLE:
            return 503, {"Content-Type": "text/html"}, MAINTENANCE_PAGE
        if fault == NOT_JSON:
            return 200, {"Content-Type": "text/html"}, MAINTENANCE_PAGE
        if fault == WRONG_SHAPE:
            return self._json(200, {"hasErrors": False, "results": []})
        if fault == JSON_NUMBER:
            return self._json(200, 42)
        raise ValueError(fault)


def _raises(fault: str) -> bool:
    return fault in (READ_TIMEOUT, CONNECT_TIMEOUT, CONNECTION_ERROR)


def _transport_fault(fault: str) -> requests.RequestException | None:
    if fault == READ_TIMEOUT:
        return requests.exceptions.ReadTimeout("fake Salesforce: read timed out")
    if fault == CONNECT_TIMEOUT:
        return requests.exceptions.ConnectTimeout("fake Salesforce: connect timed out")
    if fault == CONNECTION_ERROR:
        return requests.exceptions.ConnectionError("fake Salesforce: connection reset by peer")
    return None


def _text_body(request: requests.PreparedRequest) -> str:
    body = request.body or b""
    return body.decode() if isinstance(body, bytes) else str(body)


def _json_body(request: requests.PreparedRequest) -> Any:
    try:
        return json.loads(_text_body(request))
    except ValueError:
        return None


MAINTENANCE_PAGE = "<html><body><h1>Salesforce is down for maintenance</h1></body></html>"

LOGIN_RESPONSE = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>\
<metadataServerUrl>https://{instance}/services/Soap/m/{version}/{org}</metadataServerUrl>\
<passwordExpired>false</passwordExpired><sandbox>false</sandbox>\
<serverUrl>https://{instance}/services/Soap/u/{version}/{org}</serverUrl>\
<sessionId>{session}</sessionId><userId>0055g00000DPORTAL</userId>\
<userInfo><organizationId>{org}</organizationId><userName>{username}</userName>\
<sessionSecondsValid>7200</sessionSecondsValid></userInfo>\
</result></loginResponse></soapenv:Body></soapenv:Envelope>"""

LOGIN_FAULT = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\
<soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode>\
<faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring>\
<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>\
<sf:exceptionMessage>Invalid username, password, security token; or user locked out.</sf:exceptionMessage>\
</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"""
