"""What a CRM receives of a lead, independent of the CRM, and what a CRM client promises.

A client delivers ``Target``s (a ``LeadRecord`` with the ids this CRM gave it before) in as few calls as its API
allows and answers per lead: ``Delivered`` (the CRM's ids) or ``RecordError`` (this lead only). A failure of the
whole call — the CRM down, slow, rate-limited, refusing our credentials — is raised as ``CrmUnavailableError`` (try
again later, after ``retry_after`` seconds when the CRM said) or ``CrmRefusedError`` (configuration: a person must act).
Clients are idempotent: delivering the same record twice updates what the first delivery made (upserts by our
own external id, by e-mail, or by the ids passed back in ``Target``), never creates a second one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Activity:
    """One demo (sandbox) of the prospect: one Salesforce Task, one HubSpot note, updated as the demo goes on."""

    key: str  # ours, stable: "demo-<sandbox id>" — the Task's external id, the note's lookup
    product: str  # the product's name: "BoilerOptimizer"
    industry: str  # the scenario's name: "Steel"
    started_at: datetime
    ended_at: datetime | None  # None while the demo runs
    status: str  # "running", "completed" (tour finished), "ended"
    duration_minutes: int  # of activity, first to last event
    features: Sequence[str]  # distinct features explored, by name
    engagement_points: int  # points earned in this demo (undecayed)
    watch_url: str  # the admin's "Watch live" on its sandbox ("" once the sandbox has ended)

    @property
    def subject(self) -> str:
        return f"Demo: {self.product} ({self.industry})"


@dataclass(frozen=True)
class LeadRecord:
    """A lead as a CRM sees it: the contact, the score and why, what to do next, and the demos."""

    key: str  # ours, stable: "lead-<lead id>" — Salesforce's external id value
    email: str
    first_name: str
    last_name: str  # never empty: Salesforce requires it (the e-mail's local part when no name was given)
    company: str  # never empty: Salesforce requires it ("[not provided]" when unknown)
    title: str  # job title, else the role
    role: str  # executive, engineer, operator, consultant, or ""
    phone: str
    country: str  # ISO 3166 alpha-2, or ""
    stage: str  # lead, mql, sql, opportunity, recycled, disqualified
    fit_grade: str  # A–D
    fit_score: int
    engagement_score: int  # decayed to the moment the record was built
    total_score: int
    breakdown: Sequence[str]  # "+50 requested pricing for BoilerOptimizer on 2 Dec 14:03 (rule v3)", newest first
    recommended_action: str
    lead_url: str  # the lead in the portal's admin
    watch_url: str  # "Watch live" on the newest running demo, or ""
    activities: Sequence[Activity] = ()
    built_at: datetime | None = None

    @property
    def products(self) -> list[str]:
        return list(dict.fromkeys(a.product for a in self.activities))


@dataclass(frozen=True)
class Target:
    """A record to deliver, with what this CRM answered last time (empty the first time)."""

    record: LeadRecord
    record_id: str = ""  # the CRM's id of the lead/contact
    activity_ids: Mapping[str, str] = field(default_factory=dict)  # Activity.key → the CRM's id


@dataclass(frozen=True)
class Delivered:
    record_id: str
    record_url: str  # the record in the CRM's own UI
    activity_ids: Mapping[str, str]  # every activity delivered: Activity.key → the CRM's id
    note: str = ""  # what happened beyond the ordinary: "adopted the existing lead found by e-mail"


@dataclass(frozen=True)
class RecordError:
    """This lead could not be delivered; the others of the call may have been."""

    message: str
    retryable: bool = True


class CrmUnavailableError(Exception):
    """The whole call failed for a reason that passes: 5xx, a timeout, a rate limit. Try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CrmRefusedError(Exception):
    """The CRM refuses us: bad credentials, a missing permission or field. Retrying will not help until a person
    fixes the configuration (``docs/crm.md``)."""


@dataclass(frozen=True)
class ApiUsage:
    used: int
    limit: int

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit else 0.0


class CrmClient(Protocol):
    name: str  # "salesforce", "hubspot"
    batch_size: int  # the most records ``deliver`` takes at once

    def deliver(self, targets: Sequence[Target]) -> dict[str, Delivered | RecordError]:
        """Deliver every target; the answer is keyed by ``LeadRecord.key``. Raises ``CrmUnavailableError`` or
        ``CrmRefusedError`` when the whole call fails."""
        ...

    def api_usage(self) -> ApiUsage | None:
        """The API allowance used so far, as the CRM last reported it (None before any call, or when the CRM
        reports none)."""
        ...
