"""HubSpot: leads delivered as contacts, demos as notes on them, through hubspot-api-client (docs/crm.md, "HubSpot").

One ``deliver`` makes, in this order:

1. once per process (and per token and API base): the contact property group ``demo_portal`` and our ``demo_*``
   contact properties, read first and created only when missing;
2. one batch upsert of contacts by e-mail per 100 leads;
3. one batch update per 100 notes this CRM made before (their ids come back in ``Target.activity_ids``), and a
   note created again when HubSpot no longer has it;
4. one batch create per 100 new notes, each associated with its contact.

Every call goes to ``HUBSPOT_API_BASE`` with a timeout of ``CRM_SYNC_TIMEOUT`` seconds. urllib3 retries a call
(POSTs included) three times on 429 and 5xx, waiting as HubSpot's ``Retry-After`` says when it says no longer
than the timeout, else backing off; longer waits are the outbox's. A call that timed out is not retried: HubSpot
may have done it, and a note created twice is a duplicate in a salesperson's timeline.

Creating notes is the only step that is not idempotent, so it comes last, and once a note has been created in a
call, a failure of the whole call is no longer raised (the note's id would be lost, and the retry would create a
second note): the leads not yet done answer ``RecordError`` instead, and those done answer ``Delivered``.
"""

from __future__ import annotations

import email.utils
import html
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import urllib3
from django.conf import settings
from hubspot import HubSpot
from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInputUpsert, SimplePublicObjectBatchInputUpsert
from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException
from hubspot.crm.objects.notes import (
    AssociationSpec,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    PublicAssociationsForObject,
    PublicObjectId,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
)
from hubspot.crm.objects.notes.exceptions import ApiException as NotesApiException
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import InvalidHeader, MaxRetryError, NewConnectionError, ResponseError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from crm.sync.records import (
    Activity,
    ApiUsage,
    CrmRefusedError,
    CrmUnavailableError,
    Delivered,
    LeadRecord,
    RecordError,
    Target,
)

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.hubapi.com"
# What the private app must be granted (docs/crm.md, "HubSpot"): contacts and their notes, and the contact properties.
SCOPES = (
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
)
PROPERTY_GROUP = "demo_portal"
PROPERTY_GROUP_LABEL = "Demo portal"
NOTE_TO_CONTACT = 202  # HubSpot-defined association type: note → contact
RETRIED_STATUSES = (429, 500, 502, 503, 504)
RETRIES = 3
# HubSpot resets a portal's daily allowance at midnight in the portal's time zone, which we do not know.
DAILY_LIMIT_WAIT = 3600.0
# Salesforce requires a company; HubSpot does not, and this placeholder must not replace one a salesperson typed.
COMPANY_NOT_PROVIDED = "[not provided]"
# A batch HubSpot refuses as a whole (one bad e-mail refuses all 100) is halved until the bad input is alone; this
# many calls at most per delivery, so that a refusal of every input does not cost two hundred calls.
ISOLATION_CALLS = 32

_API_ERRORS = (ContactsApiException, NotesApiException, PropertiesApiException)
T = TypeVar("T")


@dataclass(frozen=True)
class PropertySpec:
    """One of our contact properties in HubSpot, in the group ``demo_portal``."""

    name: str
    label: str
    type: str  # HubSpot's data type: "string" or "number"
    field_type: str  # how HubSpot shows it: "text", "textarea" or "number"
    description: str


DEMO_PROPERTIES = (
    PropertySpec("demo_product", "Demo products", "string", "text", "Products tried in the demo portal."),
    PropertySpec("demo_industry", "Demo industries", "string", "text", "Industry scenarios of those demos."),
    PropertySpec("demo_features", "Demo features explored", "string", "text", "Distinct features explored."),
    PropertySpec("demo_duration_minutes", "Demo minutes", "number", "number", "Minutes of activity, all demos."),
    PropertySpec("demo_engagement_score", "Demo engagement score", "number", "number", "Engagement, decayed."),
    PropertySpec("demo_fit_grade", "Demo fit grade", "string", "text", "Fit grade, A (best) to D."),
    PropertySpec("demo_total_score", "Demo total score", "number", "number", "Fit plus engagement."),
    PropertySpec("demo_stage", "Demo lead stage", "string", "text", "lead, mql, sql, opportunity, recycled, …"),
    PropertySpec("demo_score_breakdown", "Demo score breakdown", "string", "textarea", "Why the score, newest first."),
    PropertySpec("demo_recommended_action", "Demo recommended action", "string", "text", "What to do next."),
    PropertySpec("demo_watch_url", "Demo watch live", "string", "text", "Watch the running demo live (admin)."),
    PropertySpec("demo_lead_url", "Demo portal lead", "string", "text", "The lead in the demo portal's admin."),
    PropertySpec("demo_portal_id", "Demo portal id", "string", "text", "The demo portal's id of the lead."),
)

# Per process: the (API base, token) pairs whose property group and properties are known to exist, and the portal
# each token belongs to (None: not known, HubSpot would not say).
_schema_ready: set[tuple[str, str]] = set()
_portals: dict[tuple[str, str], _Portal | None] = {}
_process_lock = threading.Lock()


@dataclass(frozen=True)
class _Portal:
    portal_id: str
    ui_domain: str  # app.hubspot.com, or app-eu1.hubspot.com for a portal hosted in the EU


def contact_properties(record: LeadRecord) -> dict[str, str]:
    """The contact's properties as HubSpot takes them (strings). Standard properties the portal has no value for
    are left out, so that a phone or company a salesperson entered in HubSpot is kept; our ``demo_*`` ones are
    always sent, empty included (the watch link goes once the demo ends)."""
    standard = {
        "email": record.email,
        "firstname": record.first_name,
        "lastname": record.last_name,
        "company": "" if record.company == COMPANY_NOT_PROVIDED else record.company,
        "jobtitle": record.title,
        "phone": record.phone,
        "country": record.country,
    }
    activities = record.activities
    demo = {
        "demo_product": ", ".join(record.products),
        "demo_industry": ", ".join(dict.fromkeys(a.industry for a in activities)),
        "demo_features": ", ".join(dict.fromkeys(f for a in activities for f in a.features)),
        "demo_duration_minutes": str(sum(a.duration_minutes for a in activities)),
        "demo_engagement_score": str(record.engagement_score),
        "demo_fit_grade": record.fit_grade,
        "demo_total_score": str(record.total_score),
        "demo_stage": record.stage,
        "demo_score_breakdown": "\n".join(record.breakdown),
        "demo_recommended_action": record.recommended_action,
        "demo_watch_url": record.watch_url,
        "demo_lead_url": record.lead_url,
        "demo_portal_id": record.key,
    }
    return {**{name: value for name, value in standard.items() if value}, **demo}


_STATUS_WORDS = {"running": "Running", "completed": "Completed (tour finished)", "ended": "Ended"}


def note_properties(activity: Activity) -> dict[str, str]:
    """The note for one demo: ``hs_timestamp`` (when the demo started: where the note sits in the timeline) and
    ``hs_note_body``, HTML as HubSpot shows notes."""
    return {"hs_timestamp": _hubspot_time(activity.started_at), "hs_note_body": note_body(activity)}


def note_body(activity: Activity) -> str:
    started = activity.started_at.astimezone(UTC).strftime("%d %b %Y %H:%M UTC")
    ended = f", ended {activity.ended_at.astimezone(UTC).strftime('%d %b %Y %H:%M UTC')}" if activity.ended_at else ""
    status = _STATUS_WORDS.get(activity.status, activity.status)
    features = ", ".join(activity.features) or "none yet"
    paragraphs = [
        f"<strong>{html.escape(activity.subject)}</strong>",
        f"Product: {html.escape(activity.product)} · Industry: {html.escape(activity.industry)}",
        f"{html.escape(status)} · started {started}{ended}",
        f"{activity.duration_minutes} minutes of activity · {activity.engagement_points} engagement points",
        f"Features explored: {html.escape(features)}",
    ]
    if activity.watch_url:
        paragraphs.append(f'<a href="{html.escape(activity.watch_url)}">Watch live</a>')
    paragraphs.append(f"Demo portal: {html.escape(activity.key)}")
    return "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)


def _hubspot_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HubSpotRetry(Retry):
    """urllib3's Retry, except that a ``Retry-After`` longer than ``longest_wait`` seconds ends the retries at once
    (the 429 or 503 is then answered to us): a worker does not sleep through a long wait in the middle of a call,
    the outbox waits between attempts instead."""

    def __init__(self, *args: Any, longest_wait: float = 10.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.longest_wait = longest_wait

    def new(self, **kw: Any) -> Self:
        retry = super().new(**kw)
        retry.longest_wait = self.longest_wait
        return retry

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if response is not None and self.respect_retry_after_header:
            try:
                wait = self.get_retry_after(response)
            except InvalidHeader:
                wait = None
            if wait is not None and wait > self.longest_wait:
                cause = ResponseError(f"Retry-After {wait:.0f} s is longer than the {self.longest_wait:g} s we wait")
                raise MaxRetryError(_pool, url or "", cause)  # type: ignore[arg-type]  # as urllib3's own increment
        return super().increment(method, url, response, error, _pool, _stacktrace)


def hubspot_retry(*, longest_wait: float) -> HubSpotRetry:
    """Three retries on 429 and 5xx, POSTs included (upserts and note updates repeat harmlessly; a note create
    answered 429 or 5xx was, nearly always, not made), after HubSpot's Retry-After or a backoff of 0, 1 and 2 s.
    Refused connections are retried (nothing was sent); a read timeout or a dropped answer is not (HubSpot may
    have done the call). Redirects are not followed: every call goes to HUBSPOT_API_BASE.
    ``raise_on_status=False``: the last 429 or 5xx reaches us with its headers."""
    return HubSpotRetry(
        total=RETRIES,
        connect=RETRIES,
        read=0,
        status=RETRIES,
        other=0,
        redirect=False,
        allowed_methods=None,
        status_forcelist=RETRIED_STATUSES,
        backoff_factor=0.5,
        respect_retry_after_header=True,
        raise_on_status=False,
        longest_wait=longest_wait,
    )


@dataclass(frozen=True)
class _Answer:
    status: int
    payload: dict[str, Any]


@dataclass(frozen=True)
class _HubSpotError:
    """HubSpot's error body: ``{"status": "error", "message", "category", "context": {"ids": [...]}, ...}``."""

    message: str = ""
    category: str = ""
    policy: str = ""  # a rate limit's policyName: TEN_SECONDLY_ROLLING, DAILY, …
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)
    raw: str = ""

    @classmethod
    def parse(cls, body: object) -> _HubSpotError:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
        try:
            data = json.loads(text)
        except ValueError:
            return cls(message=text[:300], raw=text)
        return cls.from_dict(data, raw=text) if isinstance(data, dict) else cls(message=text[:300], raw=text)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], raw: str = "") -> _HubSpotError:
        context = data.get("context")
        ids = {
            str(key): [str(value) for value in values]
            for key, values in (context.items() if isinstance(context, dict) else ())
            if isinstance(values, list)
        }
        return cls(
            message=str(data.get("message") or ""),
            category=str(data.get("category") or data.get("errorType") or ""),
            policy=str(data.get("policyName") or ""),
            context=ids,
            raw=raw or json.dumps(data),
        )

    def mentions(self, *needles: str) -> bool:
        """Whether this error names one of ``needles`` (a note id, an e-mail): in its context, else as a whole
        word of its message ("a@x.com" is not in "Email address ba@x.com is invalid")."""
        wanted = {needle.lower() for needle in needles if needle}
        if any(value.lower() in wanted for values in self.context.values() for value in values):
            return True
        message = self.message.lower()
        return any(re.search(rf"(?<![\w@.-]){re.escape(needle)}(?![\w@-]|\.\w)", message) for needle in wanted)

    def scopes_required(self) -> list[str]:
        """The scopes a 403 MISSING_SCOPES names (``errors[].context.requiredGranularScopes``)."""
        try:
            details = json.loads(self.raw).get("errors") or []
        except (ValueError, AttributeError):
            return []
        found: list[str] = []
        for detail in details if isinstance(details, list) else []:
            context = detail.get("context") if isinstance(detail, dict) else None
            for key in ("requiredGranularScopes", "requiredScopes"):
                values = context.get(key) if isinstance(context, dict) else None
                found += [str(value) for value in values] if isinstance(values, list) else []
        return found

    @property
    def property_missing(self) -> bool:
        return "PROPERTY_DOESNT_EXIST" in self.raw

    @property
    def not_found(self) -> bool:
        return self.category == "OBJECT_NOT_FOUND"

    def __str__(self) -> str:
        return f"{self.category}: {self.message}" if self.category else self.message or "no explanation"


class _TokenRefusedError(CrmRefusedError):
    """401: the token itself is refused (revoked, mistyped, of another app)."""


class _RejectedError(Exception):
    """HubSpot refused the call's input (a 4xx other than 401, 403 and 429): per input when the call had one."""

    def __init__(self, what: str, status: int, error: _HubSpotError) -> None:
        super().__init__(f"{status} {error}")
        self.what = what
        self.status = status
        self.error = error


class HubSpotClient:
    """The CRM client for HubSpot (``crm.sync.records.CrmClient``). One instance is used by one thread."""

    name = "hubspot"
    batch_size = 100

    def __init__(self, *, access_token: str, api_base: str = DEFAULT_API_BASE, timeout: float = 10.0) -> None:
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self._process_key = (self.api_base, access_token)
        self._usage: ApiUsage | None = None
        # ``host`` is set on every API module's own Configuration (the library's api factory sets each key it is
        # given); each discovery attribute builds a new ApiClient and connection pool, so each is taken once.
        library = HubSpot(access_token=access_token, retry=hubspot_retry(longest_wait=timeout), host=self.api_base)
        self._groups = library.crm.properties.groups_api
        self._properties = library.crm.properties.core_api
        self._contacts = library.crm.contacts.batch_api
        self._notes = library.crm.objects.notes.batch_api

    @classmethod
    def from_settings(cls) -> HubSpotClient | None:
        """The client for the configured HubSpot, or None while ``HUBSPOT_ACCESS_TOKEN`` is empty."""
        if not settings.HUBSPOT_ACCESS_TOKEN:
            return None
        return cls(
            access_token=settings.HUBSPOT_ACCESS_TOKEN,
            api_base=settings.HUBSPOT_API_BASE,
            timeout=settings.CRM_SYNC_TIMEOUT,
        )

    def api_usage(self) -> ApiUsage | None:
        """The daily allowance as HubSpot's last answer reported it (``X-HubSpot-RateLimit-Daily`` and
        ``-Daily-Remaining``), or None."""
        return self._usage

    def deliver(self, targets: Sequence[Target]) -> dict[str, Delivered | RecordError]:
        """Deliver every target (any number: this makes the batches), answered per ``LeadRecord.key``."""
        results: dict[str, Delivered | RecordError] = {}
        sendable = []
        for target in targets:
            if target.record.email.strip():
                sendable.append(target)
            else:
                results[target.record.key] = RecordError(
                    "no e-mail address: HubSpot finds contacts by e-mail", retryable=False
                )
        if not sendable:
            return results
        try:
            self._ensure_schema()
            return results | _Delivery(self, sendable, self._portal()).run()
        except _RejectedError as rejected:  # a refusal no lead is to blame for: our request, or HubSpot's API
            raise _refused(rejected) from rejected

    # The calls.

    def _call(self, what: str, operation: Callable[..., Any], *args: Any) -> _Answer:
        """Call one of the library's operations with our timeout; the answer's JSON, or our exception."""
        try:
            response = operation(*args, _request_timeout=self.timeout, _preload_content=False)
            raw = response.data
        except _API_ERRORS as exc:
            self._read_usage(exc.headers)
            raise self._failure(what, exc.status or 0, exc.headers, exc.body) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise CrmUnavailableError(f"HubSpot did not answer {what}: {self._network_reason(exc)}") from exc
        except UnicodeDecodeError as exc:  # the library decodes an error's body as UTF-8
            raise CrmUnavailableError(f"HubSpot answered {what} with an error that is not UTF-8 text") from exc
        self._read_usage(response.headers)
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            raise _malformed(what, f"not JSON: {_excerpt(raw)}") from exc
        if not isinstance(payload, dict):
            raise _malformed(what, f"not a JSON object: {_excerpt(raw)}")
        return _Answer(status=response.status, payload=payload)

    def _failure(self, what: str, status: int, headers: Mapping[str, str] | None, body: object) -> Exception:
        error = _HubSpotError.parse(body)
        scopes = ", ".join(SCOPES)
        if status == 401:
            return _TokenRefusedError(
                f"HubSpot refused the access token while {what} (401 {error}). Set HUBSPOT_ACCESS_TOKEN to the "
                f"access token of a private app granted the scopes {scopes} (docs/crm.md, HubSpot)."
            )
        if status == 403:
            missing = error.scopes_required()
            named = f" HubSpot names {', '.join(missing)}." if missing else ""
            return CrmRefusedError(
                f"HubSpot refused {what} (403 {error}): the private app needs the scopes {scopes}.{named}"
            )
        if status == 429:
            return CrmUnavailableError(
                f"HubSpot's rate limit stopped {what} ({error.policy or 'no policy named'}: {error.message})",
                retry_after=_retry_after(headers, error),
            )
        if status == 0 or status >= 500:
            return CrmUnavailableError(f"HubSpot failed {what} ({status} {error})")
        if 300 <= status < 400:
            location = (headers or {}).get("Location", "")
            return CrmRefusedError(
                f"HubSpot answered {what} with a redirect ({status} to {location or 'nowhere'}), which is not "
                f"followed: check HUBSPOT_API_BASE ({self.api_base})."
            )
        return _RejectedError(what, status, error)

    def _network_reason(self, exc: urllib3.exceptions.HTTPError) -> str:
        reason = exc.reason if isinstance(exc, MaxRetryError) and exc.reason is not None else exc
        if isinstance(reason, NewConnectionError):  # a subclass of ConnectTimeoutError: asked first
            return f"could not connect to {self.api_base} ({reason})"
        if isinstance(reason, urllib3.exceptions.TimeoutError):
            return f"no answer within {self.timeout:g} s ({reason})"
        return str(reason)

    def _read_usage(self, headers: Mapping[str, str] | None) -> None:
        if not headers:
            return
        try:
            limit = int(headers.get("X-HubSpot-RateLimit-Daily", ""))
            remaining = int(headers.get("X-HubSpot-RateLimit-Daily-Remaining", ""))
        except ValueError:
            return
        self._usage = ApiUsage(used=max(0, limit - remaining), limit=limit)

    # Once per process.

    def _ensure_schema(self) -> None:
        """Make the property group and our contact properties exist, creating only those missing (409 on a
        create: someone else created it meanwhile, which is as good)."""
        if self._process_key in _schema_ready:
            return
        with _process_lock:
            if self._process_key in _schema_ready:
                return
            try:
                self._call("reading the property group", self._groups.get_by_name, "contacts", PROPERTY_GROUP)
            except _RejectedError as rejected:
                if rejected.status != 404:
                    raise _refused(rejected) from rejected
                group = PropertyGroupCreate(name=PROPERTY_GROUP, label=PROPERTY_GROUP_LABEL, display_order=-1)
                self._create("creating the property group", self._groups.create, "contacts", group)
            answer = self._call("reading the contact properties", self._properties.get_all, "contacts")
            existing = {
                item.get("name") for item in _results(answer, "reading the contact properties") if "name" in item
            }
            for spec in DEMO_PROPERTIES:
                if spec.name in existing:
                    continue
                created = PropertyCreate(
                    name=spec.name,
                    label=spec.label,
                    type=spec.type,
                    field_type=spec.field_type,
                    group_name=PROPERTY_GROUP,
                    description=spec.description,
                    form_field=False,
                )
                self._create(f"creating the contact property {spec.name}", self._properties.create, "contacts", created)
            _schema_ready.add(self._process_key)

    def _create(self, what: str, operation: Callable[..., Any], *args: Any) -> None:
        try:
            self._call(what, operation, *args)
            logger.info("HubSpot: %s: done", what)
        except _RejectedError as rejected:
            if rejected.status != 409:
                raise _refused(rejected) from rejected

    def _forget_schema(self) -> None:
        _schema_ready.discard(self._process_key)

    def _portal(self) -> _Portal | None:
        """The portal (account) the token belongs to, for links to records: ``GET /account-info/v3/details``,
        once per process. Optional: when HubSpot will not say, records have no link."""
        if self._process_key in _portals:
            return _portals[self._process_key]

        def details(**options: Any) -> Any:
            # The library has no account-info API: its ApiClient makes the call (our host, token, retries).
            return self._contacts.api_client.call_api(
                "/account-info/v3/details",
                "GET",
                header_params={"Accept": "application/json"},
                response_types_map={},
                auth_settings=["oauth2"],
                **options,
            )

        try:
            answer = self._call("reading the account's details", details)
        except CrmUnavailableError:
            return None  # asked again on the next delivery
        except _TokenRefusedError:
            raise
        except (_RejectedError, CrmRefusedError) as exc:
            logger.warning("HubSpot: no links to records, the portal is unknown (%s)", exc)
            answer = None
        portal = None
        if answer is not None and isinstance(answer.payload.get("portalId"), int | str):
            domain = str(answer.payload.get("uiDomain") or "app.hubspot.com")
            portal = _Portal(
                portal_id=str(answer.payload["portalId"]),
                ui_domain=domain if re.fullmatch(r"[a-z0-9.-]+", domain) else "app.hubspot.com",
            )
        _portals[self._process_key] = portal
        return portal


@dataclass
class _NoteJob:
    target: Target
    activity: Activity
    contact_id: str
    note_id: str  # "" to create

    @property
    def trace(self) -> str:
        """Unique in a delivery: names the input in HubSpot's answer (``objectWriteTraceId``)."""
        return f"{self.target.record.key}/{self.activity.key}"


class _Delivery:
    """One ``deliver``: what each lead got so far, the isolation calls left."""

    def __init__(self, client: HubSpotClient, targets: list[Target], portal: _Portal | None) -> None:
        self.client = client
        self.targets = targets
        self.portal = portal
        self.isolation_calls = ISOLATION_CALLS
        self.errors: dict[str, RecordError] = {}
        self.contacts: dict[str, str] = {}  # lead key → contact id
        self.urls: dict[str, str] = {}  # lead key → the record in HubSpot's UI
        self.notes: dict[str, dict[str, str]] = {target.record.key: {} for target in targets}
        self.created: set[str] = set()  # leads that had a note created by this delivery
        self.note_failures: dict[str, list[str]] = {}

    def run(self) -> dict[str, Delivered | RecordError]:
        for chunk in _chunks_by_email(self.targets, self.client.batch_size):
            self._upsert(chunk)
        updates: list[_NoteJob] = []
        creates: list[_NoteJob] = []
        for target in self.targets:
            contact_id = self.contacts.get(target.record.key)
            if not contact_id:
                continue
            for activity in target.record.activities:
                job = _NoteJob(target, activity, contact_id, target.activity_ids.get(activity.key, ""))
                (updates if job.note_id else creates).append(job)
        for start in range(0, len(updates), self.client.batch_size):
            creates += self._update_notes(updates[start : start + self.client.batch_size])
        self._create_notes(creates)
        return {target.record.key: self._result(target) for target in self.targets}

    def _result(self, target: Target) -> Delivered | RecordError:
        key = target.record.key
        if key in self.errors:
            return self.errors[key]
        failures = self.note_failures.get(key)
        if failures and key not in self.created:  # nothing would be lost: the outbox keeps the ids it had
            return RecordError(f"the contact was delivered, a note was not: {'; '.join(failures)}")
        notes = []
        if failures:
            notes.append(f"{len(failures)} demo note(s) not delivered, they are retried with the next delivery: ")
            notes.append("; ".join(failures))
        contact_id = self.contacts[key]
        if target.record_id and target.record_id != contact_id:
            notes.insert(0, f"the HubSpot contact is now {contact_id}, was {target.record_id} (new e-mail, or merged)")
        return Delivered(
            record_id=contact_id, record_url=self.urls[key], activity_ids=self.notes[key], note=" ".join(notes)
        )

    def _isolating(
        self, items: list[T], send: Callable[[list[T]], _Answer]
    ) -> Iterator[tuple[list[T], _Answer | _RejectedError]]:
        """Send ``items`` in one call; when HubSpot refuses the call as a whole, send each half, and so on down to
        the input it refuses (within ``ISOLATION_CALLS``). Yields each part with its answer or refusal as it comes,
        so that a failure further on does not lose what was done."""
        try:
            answer = send(items)
        except _RejectedError as rejected:
            error = rejected.error
            # Not worth halving: one input, no calls left, a refusal of every input (a property of ours missing)
            # or one that names its inputs (notes HubSpot no longer has).
            names_inputs = error.not_found and bool(error.context)
            if len(items) == 1 or self.isolation_calls < 2 or error.property_missing or names_inputs:
                yield items, rejected
                return
            self.isolation_calls -= 2
            half = len(items) // 2
            yield from self._isolating(items[:half], send)
            yield from self._isolating(items[half:], send)
            return
        yield items, answer

    # Contacts.

    def _upsert(self, chunk: list[Target]) -> None:
        what = "upserting contacts"

        def send(part: list[Target]) -> _Answer:
            inputs = [
                SimplePublicObjectBatchInputUpsert(
                    id_property="email",
                    id=target.record.email,
                    object_write_trace_id=target.record.key,
                    properties=contact_properties(target.record),
                )
                for target in part
            ]
            body = BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs)
            return self.client._call(what, self.client._contacts.upsert, body)

        for part, answer in self._isolating(chunk, send):
            if isinstance(answer, _RejectedError):
                if answer.error.property_missing:  # ours, deleted in HubSpot since we made it: made again next time
                    self.client._forget_schema()
                    raise CrmUnavailableError(f"HubSpot lacks one of our contact properties ({answer.error})")
                alone = len(part) == 1  # else the halving stopped short: the others in the part may be fine
                for target in part:
                    self.errors[target.record.key] = RecordError(
                        f"HubSpot refused the contact {target.record.email} ({answer.status} {answer.error})"
                        if alone
                        else f"HubSpot refused the batch of contacts this one was in ({answer.status} {answer.error})",
                        retryable=not alone or (answer.status not in {400, 422} and not _invalid(answer.error)),
                    )
                continue
            results, errors = _results_and_errors(answer, what)
            by_email = {}
            for result in results:
                email = (result.get("properties") or {}).get("email")
                if isinstance(email, str):
                    by_email[email.lower()] = _object_id(result, what)
            for target in part:
                key, email = target.record.key, target.record.email
                contact_id = by_email.get(email.lower())
                if contact_id:
                    self.contacts[key] = contact_id
                    self.urls[key] = self._record_url(contact_id)
                    continue
                error = next((error for error in errors if error.mentions(email, key)), None)
                self.errors[key] = (
                    RecordError(f"HubSpot refused the contact {email} ({error})", retryable=not _invalid(error))
                    if error
                    else RecordError(f"HubSpot's answer to {what} did not include {email}")
                )

    def _record_url(self, contact_id: str) -> str:
        if self.portal is None:
            return ""
        return f"https://{self.portal.ui_domain}/contacts/{self.portal.portal_id}/record/0-1/{contact_id}"

    # Notes.

    def _update_notes(self, jobs: list[_NoteJob]) -> list[_NoteJob]:
        """Update the notes HubSpot has; the jobs whose note it no longer has come back, to be created again."""
        what = "updating notes"
        gone: list[_NoteJob] = []

        def send(part: list[_NoteJob]) -> _Answer:
            inputs = [
                SimplePublicObjectBatchInput(id=job.note_id, properties=note_properties(job.activity)) for job in part
            ]
            return self.client._call(
                what, self.client._notes.update, BatchInputSimplePublicObjectBatchInput(inputs=inputs)
            )

        while jobs:
            retry: list[_NoteJob] = []
            for part, answer in self._isolating(jobs, send):
                if isinstance(answer, _RejectedError):
                    # HubSpot refuses the whole batch when it lacks one of the notes, naming it: those are created
                    # again, the others sent again.
                    missing = [job for job in part if answer.error.not_found and answer.error.mentions(job.note_id)]
                    if not missing and answer.status == 404 and len(part) == 1:
                        missing = part
                    gone += missing
                    retry += [job for job in part if job not in missing] if missing else []
                    for job in [] if missing else part:
                        self._note_failed(job, f"{answer.status} {answer.error}")
                    continue
                results, errors = _results_and_errors(answer, what)
                updated = {_object_id(result, what) for result in results}
                for job in part:
                    if job.note_id in updated:
                        self.notes[job.target.record.key][job.activity.key] = job.note_id
                        continue
                    error = next((error for error in errors if error.mentions(job.note_id)), None)
                    if error and error.not_found:
                        gone.append(job)
                    else:
                        self._note_failed(job, str(error) if error else f"HubSpot's answer left out note {job.note_id}")
            jobs = retry
        for job in gone:
            logger.info("HubSpot no longer has note %s (%s): creating it again", job.note_id, job.trace)
        return [_NoteJob(job.target, job.activity, job.contact_id, "") for job in gone]

    def _create_notes(self, jobs: list[_NoteJob]) -> None:
        what = "creating notes"
        association = [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=NOTE_TO_CONTACT)]

        def send(part: list[_NoteJob]) -> _Answer:
            inputs = [
                SimplePublicObjectBatchInputForCreate(
                    properties=note_properties(job.activity),
                    associations=[PublicAssociationsForObject(to=PublicObjectId(id=job.contact_id), types=association)],
                    object_write_trace_id=job.trace,
                )
                for job in part
            ]
            body = BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
            return self.client._call(what, self.client._notes.create, body)

        done: set[str] = set()
        try:
            for call in _calls_by_lead(jobs, self.client.batch_size):
                for part, answer in self._isolating(call, send):
                    self._take_created(part, answer, what)
                    done.update(job.trace for job in part)
        except (CrmUnavailableError, CrmRefusedError) as exc:
            if not self.created:
                raise  # nothing would be lost: the whole delivery is tried again
            for job in jobs:
                if job.trace not in done:
                    self._note_failed(job, str(exc))

    def _take_created(self, part: list[_NoteJob], answer: _Answer | _RejectedError, what: str) -> None:
        if isinstance(answer, _RejectedError):
            for job in part:
                self._note_failed(job, f"{answer.status} {answer.error}")
            return
        results, errors = _results_and_errors(answer, what)
        by_trace: dict[str, str] = {}
        by_body: dict[str, str] = {}
        for result in results:
            note_id = _object_id(result, what)
            if isinstance(result.get("objectWriteTraceId"), str):
                by_trace[result["objectWriteTraceId"]] = note_id
            body = (result.get("properties") or {}).get("hs_note_body")
            if isinstance(body, str):
                by_body[body] = note_id
        for job in part:
            note_id = by_trace.get(job.trace) or by_body.get(note_body(job.activity), "")
            if note_id:
                self.notes[job.target.record.key][job.activity.key] = note_id
                self.created.add(job.target.record.key)
                continue
            error = next((error for error in errors if error.mentions(job.trace)), None)
            self._note_failed(
                job, str(error) if error else f"HubSpot's answer left out the note for {job.activity.key}"
            )

    def _note_failed(self, job: _NoteJob, reason: str) -> None:
        self.note_failures.setdefault(job.target.record.key, []).append(f"{job.activity.key}: {reason}")


def _chunks_by_email(targets: list[Target], size: int) -> list[list[Target]]:
    """Chunks of at most ``size``, none holding an e-mail twice (HubSpot refuses a batch with a repeated id)."""
    chunks: list[tuple[list[Target], set[str]]] = []
    for target in targets:
        email = target.record.email.lower()
        for chunk, emails in chunks:
            if len(chunk) < size and email not in emails:
                chunk.append(target)
                emails.add(email)
                break
        else:
            chunks.append(([target], {email}))
    return [chunk for chunk, _emails in chunks]


def _calls_by_lead(jobs: list[_NoteJob], size: int) -> list[list[_NoteJob]]:
    """Calls of at most ``size`` notes, a lead's notes in one call where they fit: a call that fails as a whole
    then leaves a lead with none of its notes created rather than some."""
    by_lead: dict[str, list[_NoteJob]] = {}
    for job in jobs:
        by_lead.setdefault(job.target.record.key, []).append(job)
    calls: list[list[_NoteJob]] = []
    for lead_jobs in by_lead.values():
        for start in range(0, len(lead_jobs), size):
            group = lead_jobs[start : start + size]
            if calls and len(calls[-1]) + len(group) <= size:
                calls[-1] += group
            else:
                calls.append(list(group))
    return calls


def _results_and_errors(answer: _Answer, what: str) -> tuple[list[dict[str, Any]], list[_HubSpotError]]:
    """A batch answer's ``results`` and, with 207 Multi-Status, its per-input ``errors``."""
    errors = answer.payload.get("errors", [])
    if not isinstance(errors, list):
        raise _malformed(what, "errors is not a list")
    results = answer.payload.get("results", [] if errors else None)
    if not isinstance(results, list) or not all(isinstance(result, dict) for result in results):
        raise _malformed(what, "no list of results")
    return results, [_HubSpotError.from_dict(error) for error in errors if isinstance(error, dict)]


def _results(answer: _Answer, what: str) -> list[dict[str, Any]]:
    return _results_and_errors(answer, what)[0]


def _object_id(result: Mapping[str, Any], what: str) -> str:
    value = result.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise _malformed(what, "a result without an id")
    return str(value)


def _invalid(error: _HubSpotError) -> bool:
    """A refusal of the input itself (a malformed e-mail): sending it again will not help."""
    return error.category in {"VALIDATION_ERROR", "INVALID_EMAIL"} or "INVALID_EMAIL" in error.raw


def _retry_after(headers: Mapping[str, str] | None, error: _HubSpotError) -> float | None:
    """Seconds to wait after a 429: ``Retry-After`` (seconds or a date), else the daily allowance's reset (an
    hour: we do not know the portal's midnight), else the rolling window's length when nothing remains in it."""
    headers = headers or {}
    value = (headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    if value:
        when = email.utils.parsedate_to_datetime(value) if email.utils.parsedate_tz(value) else None
        if when is not None and when.tzinfo is not None:
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
    if error.policy == "DAILY" or headers.get("X-HubSpot-RateLimit-Daily-Remaining") == "0":
        return DAILY_LIMIT_WAIT
    interval = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "")
    remaining = headers.get("X-HubSpot-RateLimit-Remaining", "0")
    if interval.isdigit() and remaining.strip() in {"0", ""}:
        return int(interval) / 1000
    return None


def _malformed(what: str, detail: str) -> CrmUnavailableError:
    return CrmUnavailableError(f"HubSpot answered {what} with a malformed response ({detail})")


def _refused(rejected: _RejectedError) -> CrmRefusedError:
    return CrmRefusedError(f"HubSpot refused {rejected.what} ({rejected}): see docs/crm.md, HubSpot")


def _excerpt(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return repr(text[:120]) + ("…" if len(text) > 120 else "")
