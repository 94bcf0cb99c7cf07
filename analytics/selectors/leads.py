"""Reads of leads and accounts, with engagement decayed to the moment of reading.

A lead stores each rule group's engagement weighted at ``decay_anchor``; the engagement at time t is
``weight × 0.5 ^ ((t − anchor) / half-life)`` per group. The same formula runs in SQL (to filter and order
100,000 leads by score) and in Python (for one lead), so a score is never stale and no nightly job decays it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, ExpressionWrapper, F, FloatField, Func, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Extract, Power
from django.utils import timezone

from analytics import scoring
from analytics.models import Lead, Rule, RuleSet, ScoreEntry
from analytics.services.leads import parameters_of, rule_set_active

DAY_SECONDS = 86400.0


def engagement_now(lead: Lead, now: datetime | None = None) -> float:
    """``lead``'s engagement score at ``now``, decayed under its rule set's half-lives."""
    now = now or timezone.now()
    rule_set = lead.rule_set or rule_set_active()
    weights = {str(Rule.Group.INTENT): lead.intent_weight, str(Rule.Group.ACTIVITY): lead.activity_weight}
    return scoring.engagement_at(weights, lead.decay_anchor, now, parameters_of(rule_set))


def engagement_expression(rule_set: RuleSet, now: datetime) -> ExpressionWrapper[Any]:
    """``engagement_now`` as SQL, for the active rule set (every lead is on it once a rescore is done)."""
    # In double precision throughout: EXTRACT returns numeric, and power() in numeric arithmetic over
    # 100,000 rows costs ten times the float version (docs/benchmarks.md, "Lead scoring").
    age_days = Cast(Extract(Value(now) - F("decay_anchor"), "epoch"), FloatField()) / Value(DAY_SECONDS)

    def decayed(weight: str, half_life_days: int) -> ExpressionWrapper[Any]:
        return ExpressionWrapper(F(weight) * Power(Value(0.5), age_days / half_life_days), output_field=FloatField())

    return ExpressionWrapper(
        decayed("intent_weight", rule_set.intent_half_life_days)
        + decayed("activity_weight", rule_set.activity_half_life_days),
        output_field=FloatField(),
    )


def rounded(expression: Any) -> Func:
    """``round()`` of a double in SQL, to the nearest even on a tie as Python's ``round`` (Django's ``Round``
    casts to numeric first)."""
    return Func(expression, function="ROUND", output_field=FloatField())


def leads_scored(now: datetime | None = None) -> QuerySet[Lead]:
    """Leads with ``engagement_score`` and ``total_score`` (fit + engagement) as of ``now``, rounded."""
    now = now or timezone.now()
    engagement = engagement_expression(rule_set_active(), now)
    return (
        # Users prefetched, not joined: a join above the ORDER BY score LIMIT 25 makes PostgreSQL sort every row in full
        # (to disk at 100,000 leads) instead of keeping the top 25 (docs/benchmarks.md, "Lead scoring").
        Lead.objects.prefetch_related("user")
        .annotate(engagement_exact=engagement)
        .annotate(
            engagement_score=rounded(F("engagement_exact")),
            total_score=rounded(F("engagement_exact") + F("fit_score")),
        )
    )


def breakdown(lead: Lead) -> QuerySet[ScoreEntry]:
    """The ledger of ``lead``, newest first, with each entry's event and rule version."""
    return lead.entries.select_related("rule_set", "event").order_by("kind", "-occurred_at", "-pk")


@dataclass(frozen=True)
class BreakdownLine:
    entry: ScoreEntry
    decayed_points: float

    @property
    def text(self) -> str:
        """ "+50 requested pricing for BoilerOptimizer on 2 Dec 14:03 (rule v3)"."""
        when = "" if self.entry.kind == "fit" else f" on {self.entry.occurred_at:%-d %b %H:%M}"
        return f"{self.entry.points:+d} {self.entry.explanation}{when} (rule v{self.entry.rule_set.version})"


def breakdown_line(entry: ScoreEntry, now: datetime, half_lives: Mapping[str, timedelta]) -> BreakdownLine:
    """``entry`` with its points as they count at ``now``: fit never decays, engagement halves per half-life."""
    if entry.kind == Rule.Kind.FIT:
        return BreakdownLine(entry, float(entry.points))
    return BreakdownLine(entry, scoring.decayed(entry.points, entry.occurred_at, now, half_lives[entry.group]))


def breakdown_lines(lead: Lead, now: datetime | None = None) -> list[BreakdownLine]:
    now = now or timezone.now()
    half_lives = parameters_of(lead.rule_set or rule_set_active()).half_lives
    return [breakdown_line(entry, now, half_lives) for entry in breakdown(lead)]


ROLES = ("executive", "engineer", "operator", "consultant")


def accounts(now: datetime | None = None) -> QuerySet[Lead, dict[str, Any]]:
    """Buying committees: leads rolled up by business e-mail domain (free-mail leads have none), with the
    people, the roles covered, the combined engagement and the last activity; most engaged first."""
    return (
        leads_scored(now)
        .exclude(account_domain="")
        .values("account_domain")
        .annotate(
            people=Count("pk"),
            engagement=rounded(Sum("engagement_exact")),
            last_activity_at=Max("last_activity_at"),
            **{f"has_{role}": Count("pk", filter=Q(user__role=role)) for role in ROLES},
            mqls=Count("pk", filter=Q(stage=Lead.Stage.MQL)),
            sqls=Count("pk", filter=Q(stage=Lead.Stage.SQL)),
            opportunities=Count("pk", filter=Q(stage=Lead.Stage.OPPORTUNITY)),
        )
        .order_by("-engagement", "account_domain")
    )


def account_stage(row: dict[str, int]) -> str:
    """An account is as far along as its most advanced person."""
    for stage, key in (("opportunity", "opportunities"), ("sql", "sqls"), ("mql", "mqls")):
        if row.get(key):
            return stage
    return "lead"


def roles_covered(row: dict[str, int]) -> list[str]:
    return [role for role in ROLES if row.get(f"has_{role}")]
