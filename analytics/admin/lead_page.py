"""What the lead page shows, read in a fixed number of queries whatever the lead's history: the breakdown,
the prospect's sandboxes with their tour progress, the calls to action, the buying committee and the
stage history.

Tour progress comes from the events the tours record (analytics may not import ``demoportal.tours``, which
sits above it): ``feature_viewed`` with ``{"tour", "step"}`` for each step shown, ``demo_completed`` with
``{"tour", "steps_done"}`` when the tour is finished.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from analytics.admin.display import product_name
from analytics.models import Event, Lead, LeadStageChange, Rule
from analytics.selectors.leads import BreakdownLine, breakdown_lines, leads_scored
from sandboxes.models import Sandbox

CTA_EVENTS = {
    "pricing_requested": "Requested pricing",
    "sales_contact_requested": "Booked a sales call",
    "poc_started": "Asked for a proof of concept",
}
TOUR_EVENTS = ("feature_viewed", "demo_completed")
COMMITTEE_SHOWN = 50


@dataclass
class SandboxRow:
    sandbox: Sandbox
    product: str
    steps_seen: int = 0
    finished: bool = False
    tours: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CallToAction:
    name: str
    label: str
    product: str
    properties: list[tuple[str, str]]
    at: datetime


@dataclass(frozen=True)
class LeadPage:
    lead: Lead
    fit_lines: list[BreakdownLine]
    engagement_lines: list[BreakdownLine]
    engagement_decayed: float
    sandboxes: list[SandboxRow]
    calls_to_action: list[CallToAction]
    committee: list[Lead]
    committee_more: int
    stage_changes: list[LeadStageChange]

    @property
    def fit_points(self) -> int:
        """The fit lines added up, before the 0–100 clamp (shown when it differs from the fit score)."""
        return sum(line.entry.points for line in self.fit_lines)


def property_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items())
    return str(value)


def lead_page(lead: Lead) -> LeadPage:
    """Everything the lead page shows of ``lead`` (from ``leads_scored()``, so its scores are read now)."""
    lines = breakdown_lines(lead)
    fit_lines = sorted((line for line in lines if line.entry.kind == Rule.Kind.FIT), key=lambda li: -li.entry.points)
    engagement_lines = sorted(
        (line for line in lines if line.entry.kind != Rule.Kind.FIT),
        key=lambda li: (li.entry.occurred_at, li.entry.pk),
        reverse=True,
    )
    sandboxes = sandbox_rows(lead)
    committee: list[Lead] = []
    more = 0
    if lead.account_domain:
        others = committee_of(lead)
        committee = list(others[: COMMITTEE_SHOWN + 1])
        more = max(0, len(committee) - COMMITTEE_SHOWN)
        committee = committee[:COMMITTEE_SHOWN]
    return LeadPage(
        lead=lead,
        fit_lines=fit_lines,
        engagement_lines=engagement_lines,
        engagement_decayed=sum(line.decayed_points for line in engagement_lines),
        sandboxes=sandboxes,
        calls_to_action=calls_to_action(lead),
        committee=committee,
        committee_more=more,
        stage_changes=list(lead.stage_changes.select_related("actor")),
    )


def committee_of(lead: Lead) -> QuerySet[Lead]:
    """The other people of ``lead``'s account, best scored first."""
    return (
        leads_scored()
        .filter(account_domain=lead.account_domain)
        .exclude(pk=lead.pk)
        .order_by("-total_score", "user__email")
    )


def sandbox_rows(lead: Lead) -> list[SandboxRow]:
    """The prospect's demo sandboxes, newest first, each with the tour steps seen and whether it was finished."""
    rows = {
        sandbox.pk: SandboxRow(sandbox=sandbox, product=product_name(sandbox.product))
        for sandbox in Sandbox.objects.filter(owner_id=lead.user_id, kind=Sandbox.Kind.DEMO).order_by("-created_at")
    }
    if not rows:
        return []
    steps: dict[int, set[str]] = defaultdict(set)
    events = Event.objects.filter(user_id=lead.user_id, sandbox_id__in=list(rows), name__in=TOUR_EVENTS).values_list(
        "sandbox_id", "name", "properties"
    )
    for sandbox_id, name, properties in events.order_by():
        tour = str((properties or {}).get("tour") or "")
        if not tour:
            continue  # a feature seen outside a tour
        row = rows[sandbox_id]
        if tour not in row.tours:
            row.tours.append(tour)
        if name == "feature_viewed" and properties.get("step"):
            steps[sandbox_id].add(f"{tour}:{properties['step']}")
        elif name == "demo_completed":
            row.finished = True
    for sandbox_id, seen in steps.items():
        rows[sandbox_id].steps_seen = len(seen)
    return list(rows.values())


def calls_to_action(lead: Lead) -> list[CallToAction]:
    """The prospect's hand-raises (pricing, a sales call, a proof of concept), newest first."""
    events = (
        Event.objects.filter(user_id=lead.user_id, name__in=list(CTA_EVENTS))
        .select_related("sandbox")
        .order_by("-occurred_at", "-pk")
    )
    out = []
    for event in events:
        properties = dict(event.properties or {})
        product = str(properties.pop("product", "") or (event.sandbox.product if event.sandbox else ""))
        out.append(
            CallToAction(
                name=event.name,
                label=CTA_EVENTS[event.name],
                product=product_name(product) if product else "",
                properties=[(key.replace("_", " "), property_text(value)) for key, value in properties.items()],
                at=event.occurred_at,
            )
        )
    return out
