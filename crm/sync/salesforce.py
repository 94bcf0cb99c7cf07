"""The Salesforce client of the CRM sync, through simple-salesforce and the REST API's sObject Collections.

A delivery of up to 200 leads costs two calls: one Collections upsert of the Leads by our external id
(``SALESFORCE_LEAD_ID_FIELD`` = ``LeadRecord.key``), one of their Tasks by theirs (``SALESFORCE_TASK_ID_FIELD`` =
``Activity.key``, one Task per demo). Delivering the same records again updates what the first delivery made. Two
cases cost a call more, for that lead only: a duplicate rule that blocks the new Lead (the existing Lead with the
same e-mail is adopted: our external id is set on it), and a Lead already converted (its Tasks go to the Contact).

We log in ourselves (``SalesforceLogin``) and hand simple-salesforce the session id, rather than letting
``Salesforce(username=...)`` do it: on an expired session simple-salesforce logs in again up to four times in a row,
and it reads the 401's body with ``result.json()[0]``, which crashes on a body of another shape. Here an expired
session means one new login and one repeat of the call, then ``CrmRefusedError``.

Not thread-safe: one client per worker thread (the outbox builds one per task run).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from xml.parsers.expat import ExpatError

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.format import format_soql
from simple_salesforce.login import SalesforceLogin

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

T = TypeVar("T")

COLLECTION_SIZE = 200  # the most records one sObject Collections call takes
TEXT_AREA_LIMIT = 32_000  # characters of a Description (Long Text Area)
LEAD_SOURCE = "Demo portal"
HOT_STAGES = frozenset({"mql", "sql", "opportunity"})
WARM_ENGAGEMENT = 30  # engagement points that make an ordinary lead "Warm"
STOP_AT = 0.95  # of the org's 24-hour API allowance: no more calls until it has had time to free up
RATE_LIMIT_RETRY_AFTER = 15 * 60.0  # seconds, after REQUEST_LIMIT_EXCEEDED or usage past STOP_AT
SLOWDOWN_PAUSE = 2.0  # seconds before each call once usage passes SALESFORCE_API_USAGE_SLOWDOWN
# Login faults that pass (an invalid password is INVALID_LOGIN; simple-salesforce says UNKNOWN_EXCEPTION_CODE when a
# 200 carries no session).
TRANSIENT_LOGIN_FAULTS = frozenset({"SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION", "UNKNOWN_EXCEPTION_CODE"})
RETRYABLE_RECORD_ERRORS = frozenset({"UNABLE_TO_LOCK_ROW"})  # another transaction held the row: passes
# Salesforce's id prefixes of the objects a delivery produces, for the record's address in Lightning.
SOBJECT_BY_ID_PREFIX = {"00Q": "Lead", "003": "Contact", "00T": "Task"}

# What a Lead field can be filled from (the sources of SALESFORCE_FIELD_MAP), computed from the record.
LEAD_SOURCES: dict[str, Callable[[LeadRecord], str | int]] = {
    "email": lambda r: r.email,
    "first_name": lambda r: r.first_name,
    "last_name": lambda r: r.last_name,
    "company": lambda r: r.company,
    "title": lambda r: r.title,
    "role": lambda r: r.role,
    "phone": lambda r: r.phone,
    "country": lambda r: r.country,
    "stage": lambda r: r.stage,
    "fit_grade": lambda r: r.fit_grade,
    "fit_score": lambda r: r.fit_score,
    "engagement_score": lambda r: r.engagement_score,
    "total_score": lambda r: r.total_score,
    "recommended_action": lambda r: r.recommended_action,
    "lead_url": lambda r: r.lead_url,
    "watch_url": lambda r: r.watch_url,
    "products": lambda r: "; ".join(r.products),
    "lead_source": lambda r: LEAD_SOURCE,
    "rating": lambda r: lead_rating(r),
    "description": lambda r: lead_description(r),
}
# Contact details a sales rep may have typed in Salesforce: an empty value of ours leaves theirs alone.
PERSON_SOURCES = frozenset({"first_name", "title", "role", "phone", "country"})
DEFAULT_LEAD_FIELDS: dict[str, str] = {
    "Email": "email",
    "FirstName": "first_name",
    "LastName": "last_name",
    "Company": "company",
    "Title": "title",
    "Phone": "phone",
    "Country": "country",  # the ISO code as text: safe whether or not State and Country Picklists are on
    "LeadSource": "lead_source",
    "Rating": "rating",
    "Description": "description",
}
# The standard Lead fields' lengths: longer values are cut rather than refused with STRING_TOO_LONG.
LEAD_FIELD_LENGTHS = {
    "FirstName": 40,
    "LastName": 80,
    "Company": 255,
    "Title": 128,
    "Phone": 40,
    "Country": 80,
    "LeadSource": 255,
    "Description": TEXT_AREA_LIMIT,
}


# THE MAPPING (pure functions)


def lead_rating(record: LeadRecord) -> str:
    """Salesforce's Rating picklist from the funnel stage: qualified leads are Hot, engaged leads Warm."""
    if record.stage in HOT_STAGES:
        return "Hot"
    if record.stage == "lead" and record.engagement_score >= WARM_ENGAGEMENT:
        return "Warm"
    return "Cold"


def lead_description(record: LeadRecord) -> str:
    """The score, why, what to do next and the links, in at most 32,000 characters: the oldest reasons go first."""
    head = [
        f"Demo portal score: {record.total_score} (fit {record.fit_grade} {record.fit_score}, "
        f"engagement {record.engagement_score})",
        f"Stage: {record.stage}",
        f"Recommended action: {record.recommended_action}",
    ]
    if record.products:
        head.append(f"Products tried: {', '.join(record.products)}")
    tail = [f"Lead in the demo portal: {record.lead_url}"]
    if record.watch_url:
        tail.append(f"Watch live: {record.watch_url}")
    reasons = list(record.breakdown)
    text = _description_text(head, reasons, tail)
    if len(text) <= TEXT_AREA_LIMIT:
        return text
    # Drop the oldest reasons (the breakdown is newest first) until it fits, saying how many were left out.
    low, high = 0, len(reasons)
    while low < high:  # the most reasons that fit
        middle = (low + high + 1) // 2
        shown = [*reasons[:middle], f"… and {len(reasons) - middle} more"]
        if len(_description_text(head, shown, tail)) <= TEXT_AREA_LIMIT:
            low = middle
        else:
            high = middle - 1
    shown = [*reasons[:low], f"… and {len(reasons) - low} more"]
    return _description_text(head, shown, tail)[:TEXT_AREA_LIMIT]


def _description_text(head: list[str], reasons: list[str], tail: list[str]) -> str:
    parts = ["\n".join(head)]
    if reasons:
        parts.append("Why:\n" + "\n".join(reasons))
    parts.append("\n".join(tail))
    return "\n\n".join(parts)


def lead_field_map(overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The Lead fields to fill and their sources: the defaults, with ``SALESFORCE_FIELD_MAP`` laid over them
    (a field mapped to None is left out). Raises ``ImproperlyConfigured`` for a source that does not exist."""
    fields = dict(DEFAULT_LEAD_FIELDS)
    for name, source in (overrides or {}).items():
        if source is None:
            fields.pop(name, None)
        elif source not in LEAD_SOURCES:
            raise ImproperlyConfigured(
                f"SALESFORCE_FIELD_MAP maps {name} to {source!r}, which is none of: {', '.join(sorted(LEAD_SOURCES))}"
            )
        else:
            fields[name] = source
    return fields


def lead_fields(record: LeadRecord, field_map: Mapping[str, str] | None = None) -> dict[str, str | int]:
    """The Lead's fields for this record (our external id apart). Empty contact details are left out so that an
    upsert never blanks what a sales rep typed; standard fields are cut to their length."""
    values: dict[str, str | int] = {}
    for name, source in (DEFAULT_LEAD_FIELDS if field_map is None else field_map).items():
        value = LEAD_SOURCES[source](record)
        if value == "" and source in PERSON_SOURCES:
            continue
        if isinstance(value, str) and name in LEAD_FIELD_LENGTHS:
            value = value[: LEAD_FIELD_LENGTHS[name]]
        values[name] = value
    return values


def task_fields(activity: Activity, *, who_id: str, hot: bool) -> dict[str, str]:
    """The Task of one demo, on the Lead (or the Contact it was converted to) ``who_id``. ActivityDate is the
    day the demo started, in the time zone of ``started_at``."""
    lines = [
        f"Product: {activity.product}",
        f"Industry: {activity.industry}",
        f"Status: {activity.status}",
        f"Duration: {activity.duration_minutes} min",
        f"Features explored: {', '.join(activity.features) or 'none yet'}",
        f"Engagement points: {activity.engagement_points}",
    ]
    if activity.watch_url:
        lines.append(f"Watch live: {activity.watch_url}")
    return {
        "WhoId": who_id,
        "Subject": activity.subject[:255],
        "ActivityDate": activity.started_at.date().isoformat(),
        "Status": "In Progress" if activity.status == "running" else "Completed",
        "Priority": "High" if hot else "Normal",
        "Description": "\n".join(lines)[:TEXT_AREA_LIMIT],
    }


# THE CLIENT


class TimeoutAdapter(HTTPAdapter):
    """Gives every request without a timeout this one: simple-salesforce passes none, not even to its login."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        return super().send(
            request,
            stream=stream,
            timeout=self.timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def timeout_session(timeout: float) -> requests.Session:
    """A requests session whose every call gives up after ``timeout`` seconds (to connect, and between bytes)."""
    session = requests.Session()
    adapter = TimeoutAdapter(timeout)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@dataclass(frozen=True)
class _Outcome:
    """One record's line of a Collections answer."""

    id: str
    codes: tuple[str, ...] = ()
    message: str = ""

    @property
    def success(self) -> bool:
        return not self.codes

    def error(self, prefix: str = "") -> RecordError:
        return RecordError(
            prefix + self.message, retryable=bool(self.codes) and set(self.codes) <= RETRYABLE_RECORD_ERRORS
        )


@dataclass(frozen=True)
class _Person:
    """Where a lead's Tasks go: its Lead, or the Contact it was converted to."""

    id: str
    note: str = ""


class SalesforceClient:
    """Delivers lead records to one Salesforce org (``crm.sync.records.CrmClient``)."""

    name = "salesforce"
    batch_size = COLLECTION_SIZE

    def __init__(
        self,
        *,
        username: str,
        password: str,
        security_token: str = "",
        domain: str = "login",
        api_version: str = "59.0",
        lead_id_field: str = "Demo_Portal_Id__c",
        task_id_field: str = "Demo_Portal_Activity_Id__c",
        field_map: Mapping[str, str | None] | None = None,
        timeout: float = 10.0,
        slowdown_at: float = 0.8,
        slowdown_pause: float = SLOWDOWN_PAUSE,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.username = username
        self.password = password
        self.security_token = security_token
        self.domain = domain
        self.api_version = api_version.removeprefix("v")
        self.lead_id_field = lead_id_field
        self.task_id_field = task_id_field
        self.field_map = lead_field_map(field_map)
        self.timeout = timeout
        self.slowdown_at = slowdown_at
        self.slowdown_pause = slowdown_pause
        self._sleep = sleep
        self._clock = clock
        self._http = timeout_session(timeout)
        self._sf: Salesforce | None = None
        self._instance = ""  # the org's host, known once logged in: "acme.my.salesforce.com"
        self._usage: ApiUsage | None = None
        self._blocked_until = 0.0  # clock(): no call before then (the org's allowance is spent)

    @classmethod
    def from_settings(cls) -> SalesforceClient | None:
        """The client of the configured org, or None when no org is configured (SALESFORCE_USERNAME empty)."""
        if not settings.SALESFORCE_USERNAME:
            return None
        return cls(
            username=settings.SALESFORCE_USERNAME,
            password=settings.SALESFORCE_PASSWORD,
            security_token=settings.SALESFORCE_SECURITY_TOKEN,
            domain=settings.SALESFORCE_DOMAIN,
            api_version=settings.SALESFORCE_API_VERSION,
            lead_id_field=settings.SALESFORCE_LEAD_ID_FIELD,
            task_id_field=settings.SALESFORCE_TASK_ID_FIELD,
            field_map=settings.SALESFORCE_FIELD_MAP,
            timeout=settings.CRM_SYNC_TIMEOUT,
            slowdown_at=settings.SALESFORCE_API_USAGE_SLOWDOWN,
        )

    # The contract

    def deliver(self, targets: Sequence[Target]) -> dict[str, Delivered | RecordError]:
        """Upsert the targets' Leads and their Tasks, 200 a call; the answer is keyed by ``LeadRecord.key``.

        Raises ``CrmUnavailableError`` (5xx, timeouts, an answer we cannot read, the API allowance spent) or
        ``CrmRefusedError`` (credentials, permissions, a field missing in the org) when a whole call fails; what
        earlier calls delivered is then delivered again next time, as an update."""
        by_key = {target.record.key: target for target in targets}  # a key given twice: the last one wins
        records = [target.record for target in by_key.values()]
        answers: dict[str, Delivered | RecordError] = {}
        for start in range(0, len(records), COLLECTION_SIZE):
            answers.update(self._deliver_batch(records[start : start + COLLECTION_SIZE]))
        return answers

    def api_usage(self) -> ApiUsage | None:
        return self._usage

    # Pacing

    def pause_seconds(self) -> float:
        """How long to wait before the next call: 0, or ``slowdown_pause`` once the org's 24-hour API allowance is
        used past ``SALESFORCE_API_USAGE_SLOWDOWN``. Raises ``CrmUnavailableError`` (with ``retry_after``) while the
        allowance is spent: Salesforce said REQUEST_LIMIT_EXCEEDED, or reported 95 % used, less than 15 minutes
        ago. After that one call is let through, and its answer tells the usage again."""
        now = self._clock()
        if now < self._blocked_until:
            used = f"{self._usage.used} of {self._usage.limit}" if self._usage else "all"
            raise CrmUnavailableError(
                f"Salesforce's daily API allowance is spent ({used} calls used): no calls for now",
                retry_after=self._blocked_until - now,
            )
        if self._usage is not None and self._usage.fraction >= self.slowdown_at:
            return self.slowdown_pause
        return 0.0

    def record_url(self, record_id: str) -> str:
        """The record in Lightning: ``https://<instance>/lightning/r/Lead/<id>/view`` (Contact, Task by prefix)."""
        if not self._instance:
            return ""
        sobject = SOBJECT_BY_ID_PREFIX.get(record_id[:3])
        path = f"{sobject}/{record_id}" if sobject else record_id
        return f"https://{self._instance}/lightning/r/{path}/view"

    # One batch

    def _deliver_batch(self, records: list[LeadRecord]) -> dict[str, Delivered | RecordError]:
        answers: dict[str, Delivered | RecordError] = {}
        people: dict[str, _Person] = {}
        converted: list[LeadRecord] = []
        rows = [self._lead_row(record) for record in records]
        for record, outcome in zip(records, self._upsert("Lead", self.lead_id_field, rows), strict=True):
            if outcome.success:
                people[record.key] = _Person(outcome.id)
            elif "DUPLICATES_DETECTED" in outcome.codes:
                adopted = self._adopt(record)
                if isinstance(adopted, RecordError):
                    answers[record.key] = adopted
                else:
                    people[record.key] = adopted
            elif "CANNOT_UPDATE_CONVERTED_LEAD" in outcome.codes:
                converted.append(record)
            else:
                answers[record.key] = outcome.error()
        for key, found in self._converted_contacts(converted).items():
            if isinstance(found, RecordError):
                answers[key] = found
            else:
                people[key] = found

        delivering = [record for record in records if record.key in people]
        task_rows = [
            {
                "attributes": {"type": "Task"},
                self.task_id_field: activity.key,
                **task_fields(activity, who_id=people[record.key].id, hot=lead_rating(record) == "Hot"),
            }
            for record in delivering
            for activity in record.activities
        ]
        task_outcomes = iter(self._upsert("Task", self.task_id_field, task_rows))
        for record in delivering:
            person = people[record.key]
            outcomes = [(activity.key, next(task_outcomes)) for activity in record.activities]
            failed = [(key, outcome) for key, outcome in outcomes if not outcome.success]
            if failed:
                key, outcome = failed[0]
                more = f" (and {len(failed) - 1} more demos)" if len(failed) > 1 else ""
                error = outcome.error(f"the lead is in Salesforce ({person.id}) but its demo {key} is not: ")
                answers[record.key] = RecordError(error.message + more, retryable=error.retryable)
                continue
            answers[record.key] = Delivered(
                record_id=person.id,
                record_url=self.record_url(person.id),
                activity_ids={key: outcome.id for key, outcome in outcomes},
                note=person.note,
            )
        return answers

    def _lead_row(self, record: LeadRecord) -> dict[str, Any]:
        return {"attributes": {"type": "Lead"}, self.lead_id_field: record.key, **lead_fields(record, self.field_map)}

    def _upsert(self, sobject: str, id_field: str, rows: list[dict[str, Any]]) -> list[_Outcome]:
        """Collections upserts of ``rows`` by ``id_field``, 200 a call; one outcome per row, in order."""
        outcomes: list[_Outcome] = []
        path = f"composite/sobjects/{sobject}/{id_field}"
        for start in range(0, len(rows), COLLECTION_SIZE):
            chunk = rows[start : start + COLLECTION_SIZE]
            body = {"allOrNone": False, "records": chunk}
            what = f"the upsert of {len(chunk)} {sobject}s"
            answer = self._call(what, _patch(path, body))
            outcomes.extend(_upsert_outcomes(answer, len(chunk), what))
        return outcomes

    def _adopt(self, record: LeadRecord) -> _Person | RecordError:
        """A duplicate rule blocked the new Lead: take over the oldest Lead with the same e-mail by setting our
        external id on it (and our fields), or, when that Lead was converted, use its Contact."""
        soql = format_soql(
            "SELECT Id, IsConverted, ConvertedContactId, {field:literal} FROM Lead WHERE Email = {email} "
            "ORDER BY CreatedDate LIMIT 1",
            field=self.lead_id_field,
            email=record.email,
        )
        rows = _query_rows(self._call("the search for the duplicate lead", lambda sf: sf.query(soql)), "the search")
        if not rows:
            return RecordError(
                "Salesforce's duplicate rule blocked the new lead, but no lead has its e-mail (the duplicate may be "
                "a contact): merge or allow the save in Salesforce",
                retryable=False,
            )
        lead_id, owner = _text(rows[0], "Id"), _text(rows[0], self.lead_id_field)
        if owner and owner != record.key:
            return RecordError(
                f"Salesforce's duplicate rule matched lead {lead_id}, which is already the portal's {owner}",
                retryable=False,
            )
        if rows[0].get("IsConverted") is True:
            contact_id = _text(rows[0], "ConvertedContactId")
            if contact_id:
                logger.info("salesforce: %s matches converted lead %s, contact %s", record.key, lead_id, contact_id)
                return _Person(contact_id, f"matched lead {lead_id} by e-mail, converted: the demos are on its contact")
        fields = {self.lead_id_field: record.key, **lead_fields(record, self.field_map)}

        def adopt(sf: Salesforce) -> str:
            try:
                sf.restful(f"sobjects/Lead/{lead_id}", method="PATCH", json=fields)
            except SalesforceMalformedRequest as exc:  # this record refused (a 400 of a single record)
                return _error_text(exc.content)
            return ""

        refused = self._call("the adoption of the duplicate lead", adopt)
        if refused:
            return RecordError(f"could not adopt the existing lead {lead_id}: {refused}", retryable=False)
        logger.info("salesforce: %s adopted the existing lead %s found by e-mail", record.key, lead_id)
        return _Person(lead_id, f"adopted the existing lead {lead_id} found by e-mail")

    def _converted_contacts(self, records: list[LeadRecord]) -> dict[str, _Person | RecordError]:
        """The Contacts our converted Leads became, found by our external id in one query."""
        if not records:
            return {}
        soql = format_soql(
            "SELECT Id, IsConverted, ConvertedContactId, {field:literal} FROM Lead WHERE {field:literal} IN {keys}",
            field=self.lead_id_field,
            keys=[record.key for record in records],
        )
        rows = _query_rows(self._call("the search for converted leads", lambda sf: sf.query(soql)), "the search")
        by_key = {_text(row, self.lead_id_field): row for row in rows}
        found: dict[str, _Person | RecordError] = {}
        for record in records:
            row = by_key.get(record.key)
            contact_id = _text(row, "ConvertedContactId") if row else ""
            if row is None or row.get("IsConverted") is not True or not contact_id:
                found[record.key] = RecordError(
                    "Salesforce calls the lead converted, but no converted lead with a contact has our id",
                    retryable=False,
                )
                continue
            lead_id = _text(row, "Id")
            logger.info("salesforce: %s was converted (lead %s, contact %s)", record.key, lead_id, contact_id)
            found[record.key] = _Person(contact_id, f"the lead {lead_id} was converted: the demos are on its contact")
        return found

    # Calls

    def _call(self, what: str, request: Callable[[Salesforce], T]) -> T:
        """One API call: paced, logged in (once more when the session has expired), its failure translated."""
        pause = self.pause_seconds()
        if pause:
            self._sleep(pause)
        try:
            return self._attempt(what, request)
        except SalesforceExpiredSession:
            logger.info("salesforce: the session expired; logging in again")
            self._sf = None
        try:
            return self._attempt(what, request)
        except SalesforceExpiredSession as exc:
            raise CrmRefusedError(f"Salesforce refused a new session for {what}: {_error_text(exc.content)}") from exc

    def _attempt(self, what: str, request: Callable[[Salesforce], T]) -> T:
        sf = self._connect()
        try:
            result = request(sf)
        except SalesforceExpiredSession:
            raise
        except SalesforceRefusedRequest as exc:  # 403
            if "REQUEST_LIMIT_EXCEEDED" in _error_codes(exc.content):
                self._blocked_until = self._clock() + RATE_LIMIT_RETRY_AFTER
                raise CrmUnavailableError(
                    f"Salesforce's API allowance is spent ({_error_text(exc.content)})",
                    retry_after=RATE_LIMIT_RETRY_AFTER,
                ) from exc
            raise CrmRefusedError(f"Salesforce refused {what}: {_error_text(exc.content)}") from exc
        except (SalesforceMalformedRequest, SalesforceResourceNotFound) as exc:  # 400, 404: a field, a permission
            raise CrmRefusedError(f"Salesforce refused {what}: {_error_text(exc.content)}") from exc
        except SalesforceError as exc:  # 5xx, and anything else not ours to fix
            raise CrmUnavailableError(
                f"Salesforce failed {what}: HTTP {exc.status} {_error_text(exc.content)}"
            ) from exc
        except requests.exceptions.JSONDecodeError as exc:
            raise CrmUnavailableError(f"Salesforce answered {what} with something that is not JSON") from exc
        except requests.RequestException as exc:  # timeouts, connection errors
            raise CrmUnavailableError(f"Salesforce did not answer {what}: {exc.__class__.__name__}: {exc}") from exc
        except TypeError as exc:  # simple-salesforce's restful() takes len() of the answer: a JSON number
            raise CrmUnavailableError(f"Salesforce answered {what} with JSON of an unexpected shape") from exc
        self._note_usage(sf)
        return result

    def _connect(self) -> Salesforce:
        """The logged-in API, logging in (SOAP login with the security token) when there is no session yet."""
        if self._sf is not None:
            return self._sf
        try:
            session_id, instance = SalesforceLogin(
                username=self.username,
                password=self.password,
                security_token=self.security_token,
                domain=self.domain,
                sf_version=self.api_version,
                session=self._http,
                client_id="demo-portal",
            )
        except SalesforceAuthenticationFailed as exc:
            # A SOAP fault names its exceptionCode (INVALID_LOGIN: HTTP 500 too); a page without one — a 503 of
            # maintenance, HTML or not — leaves the code None or the HTTP status.
            if (
                exc.code is None
                or (isinstance(exc.code, int) and exc.code >= 500)
                or exc.code in TRANSIENT_LOGIN_FAULTS
            ):
                raise CrmUnavailableError(f"Salesforce's login failed: {exc}") from exc
            raise CrmRefusedError(f"Salesforce refused the login of {self.username}: {exc}") from exc
        except ExpatError as exc:  # a 200 whose body is not XML: simple-salesforce parses it unguarded
            raise CrmUnavailableError("Salesforce's login answered with something that is not XML") from exc
        except requests.RequestException as exc:
            raise CrmUnavailableError(f"Salesforce's login did not answer: {exc.__class__.__name__}: {exc}") from exc
        self._instance = instance
        self._sf = Salesforce(session_id=session_id, instance=instance, version=self.api_version, session=self._http)
        return self._sf

    def _note_usage(self, sf: Salesforce) -> None:
        """Keep the allowance the answer reported (Sforce-Limit-Info, parsed by simple-salesforce)."""
        usage = sf.api_usage.get("api-usage")
        if usage is None:
            return
        self._usage = ApiUsage(used=usage.used, limit=usage.total)
        if self._usage.fraction >= STOP_AT:
            logger.warning("salesforce: %s of %s API calls used; pausing the sync", usage.used, usage.total)
            self._blocked_until = self._clock() + RATE_LIMIT_RETRY_AFTER


def _patch(path: str, body: Mapping[str, Any]) -> Callable[[Salesforce], Any]:
    """A REST PATCH of ``body`` to ``path`` (under /services/data/vXX.X/), for ``SalesforceClient._call``."""
    return lambda sf: sf.restful(path, method="PATCH", json=body)


# Reading answers: never trusted to have the documented shape


def _upsert_outcomes(answer: Any, expected: int, what: str) -> list[_Outcome]:
    if not isinstance(answer, list) or len(answer) != expected:
        size = f"{len(answer)} results" if isinstance(answer, list) else type(answer).__name__
        raise CrmUnavailableError(f"Salesforce answered {what} with an unexpected shape ({size}, {expected} expected)")
    outcomes: list[_Outcome] = []
    for line in answer:
        if not isinstance(line, dict) or not isinstance(line.get("success"), bool):
            raise CrmUnavailableError(f"Salesforce answered {what} with a result of an unexpected shape: {line!r:.200}")
        if line["success"]:
            if not _text(line, "id"):
                raise CrmUnavailableError(f"Salesforce answered {what} with a success without an id")
            outcomes.append(_Outcome(_text(line, "id")))
            continue
        errors = [error for error in line.get("errors") or [] if isinstance(error, dict)]
        codes = tuple(_text(error, "statusCode") or "UNKNOWN" for error in errors) or ("UNKNOWN",)
        message = "; ".join(f"{_text(e, 'statusCode')}: {_text(e, 'message')}" for e in errors) or "refused, no reason"
        outcomes.append(_Outcome(_text(line, "id"), codes, message))
    return outcomes


def _query_rows(answer: Any, what: str) -> list[dict[str, Any]]:
    rows = answer.get("records") if isinstance(answer, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise CrmUnavailableError(f"Salesforce answered {what} with an unexpected shape")
    return rows


def _text(row: Mapping[str, Any] | None, name: str) -> str:
    value = row.get(name) if row else None
    return value if isinstance(value, str) else ""


def _error_codes(content: Any) -> list[str]:
    """The errorCodes of a REST error body: ``[{"message": ..., "errorCode": ...}]``."""
    if not isinstance(content, list):
        return []
    return [_text(error, "errorCode") for error in content if isinstance(error, dict)]


def _error_text(content: Any) -> str:
    """A REST error body in one line: "INVALID_FIELD: No such column ..." (or the raw body, cut)."""
    if isinstance(content, list):
        errors = [error for error in content if isinstance(error, dict)]
        if errors:
            return "; ".join(f"{_text(e, 'errorCode')}: {_text(e, 'message')}" for e in errors)
    if isinstance(content, bytes):
        content = content.decode(errors="replace")
    return str(content)[:300]
