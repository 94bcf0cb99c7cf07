"""How a lead is scored, as plain functions of what is known: the events, the profile and the rules.

No Django here: the services (``analytics/leads.py``) turn rows into these values and back, and the
same functions score one lead on an event or every lead on a rescore. docs/scoring.md describes every
rule for marketing; the names below are the ones it uses.

Engagement is counted per *product demo*: the product the event happened in (its sandbox's product), so
a prospect who tries two products may earn a rule twice, once in each. Each rule counts at most
``max_per_demo`` times per product demo, and each contribution has a key (signal, product, ordinal) that
makes it count once however often it is derived.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# The events that show a product feature, and the value moments (which are features in themselves).
FEATURE_EVENTS = frozenset({"feature_viewed", "feature_clicked", "dashboard_accessed", "recommendation_viewed"})
VALUE_MOMENTS = frozenset({"savings_calculated", "optimization_applied", "alert_acknowledged", "report_generated"})
# The signals derived from several events, beside the events themselves.
DERIVED_SIGNALS = ("feature_depth", "multiple_sessions", "quick_abandonment")

GRADE_FLOORS = (("A", 70), ("B", 50), ("C", 30))  # fit score at or above → grade; below all: D
FIT_MAX = 100

# What an event means to a salesperson, for the breakdown ("+50 requested pricing for BoilerOptimizer").
PHRASES = {
    "demo_started": "started a {product} demo",
    "demo_completed": "completed the {product} tour",
    "demo_extended": "extended their {product} demo",
    "trial_extended": "extended their {product} trial",
    "report_generated": "generated a report in {product}",
    "alert_acknowledged": "acknowledged an alarm in {product}",
    "savings_calculated": "calculated savings in {product}",
    "optimization_applied": "applied an optimisation in {product}",
    "pricing_requested": "requested pricing for {product}",
    "sales_contact_requested": "booked a sales call about {product}",
    "poc_started": "asked for a proof of concept of {product}",
    "feature_depth": "explored {count} features of {product}",
    "multiple_sessions": "came back to {product} for visit {count}",
    "quick_abandonment": "left the {product} demo within {count} minutes",
}


@dataclass(frozen=True)
class Fact:
    """One event as the scoring sees it."""

    id: int
    name: str
    at: datetime
    product: str = ""
    sandbox_id: int | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleSpec:
    kind: str  # "fit" or "engagement"
    signal: str
    points: int
    max_per_demo: int = 1
    group: str = "activity"
    hand_raise: bool = False


@dataclass(frozen=True)
class Parameters:
    feature_depth_min: int = 6
    session_gap: timedelta = timedelta(minutes=30)
    quick_abandonment: timedelta = timedelta(minutes=5)
    half_lives: Mapping[str, timedelta] = field(
        default_factory=lambda: {"intent": timedelta(days=30), "activity": timedelta(days=30)}
    )
    mql_engagement: int = 60
    mql_fit_grades: str = "ABC"


@dataclass(frozen=True)
class Profile:
    """Who the prospect is, for fit."""

    role: str = ""
    personal_email: bool = False
    email_domain: str = ""
    company_size: str = ""  # "small", "medium", "large" or "enterprise"
    country: str = ""
    partner: str = ""  # the partner organisation's name, for a partner's user
    industries: Sequence[str] = ()  # the scenarios of their demos
    industry_names: Mapping[str, str] = field(default_factory=dict)  # their display names ("Food & beverage")


@dataclass(frozen=True)
class Contribution:
    kind: str
    signal: str
    points: int
    at: datetime
    key: str
    explanation: str
    group: str = ""
    product: str = ""
    event_id: int | None = None
    hand_raise: bool = False


def product_phrase(signal: str, product_name: str, count: int = 0) -> str:
    template = PHRASES.get(signal, signal.replace("_", " ") + " in {product}")
    return template.format(product=product_name or "the portal", count=count)


def engagement(
    facts: Iterable[Fact], rules: Iterable[RuleSpec], parameters: Parameters, product_names: Mapping[str, str]
) -> list[Contribution]:
    """The engagement contributions ``facts`` (one lead's events, any order) earn under ``rules``."""
    by_signal = {rule.signal: rule for rule in rules if rule.kind == "engagement"}
    counted: dict[tuple[str, str], int] = defaultdict(int)
    out: list[Contribution] = []

    def earn(signal: str, fact: Fact, count: int = 0) -> None:
        rule = by_signal.get(signal)
        if rule is None or counted[signal, fact.product] >= rule.max_per_demo:
            return
        counted[signal, fact.product] += 1
        out.append(
            Contribution(
                kind="engagement",
                signal=signal,
                points=rule.points,
                at=fact.at,
                key=f"{signal}:{fact.product}:{counted[signal, fact.product]}",
                explanation=product_phrase(signal, product_names.get(fact.product, fact.product), count),
                group=rule.group,
                product=fact.product,
                event_id=fact.id,
                hand_raise=rule.hand_raise,
            )
        )

    features: dict[str, set[str]] = defaultdict(set)
    last_seen: dict[str, datetime] = {}
    visits: dict[str, int] = defaultdict(lambda: 1)
    started: dict[int | None, datetime] = {}
    active_until: dict[int | None, datetime] = {}
    for fact in sorted(facts, key=lambda f: (f.at, f.id)):
        if fact.name == "demo_extended" and fact.properties.get("by_staff"):
            pass  # staff (or the scoring itself) gave more time: not the prospect's doing
        elif fact.name != "demo_abandoned":
            earn(fact.name, fact)
        if fact.name in FEATURE_EVENTS or fact.name in VALUE_MOMENTS:
            seen = features[fact.product]
            seen.add(str(fact.properties.get("feature") or fact.name) if fact.name in FEATURE_EVENTS else fact.name)
            if len(seen) == parameters.feature_depth_min:
                earn("feature_depth", fact, len(seen))
        if fact.name == "demo_abandoned":
            began = started.get(fact.sandbox_id)
            if began is not None:
                active = active_until.get(fact.sandbox_id, began) - began
                if active < parameters.quick_abandonment:
                    earn("quick_abandonment", fact, math.ceil(parameters.quick_abandonment.total_seconds() / 60))
            continue  # recorded by the system after the prospect left: not a visit
        previous = last_seen.get(fact.product)
        if previous is not None and fact.at - previous >= parameters.session_gap:
            visits[fact.product] += 1
            earn("multiple_sessions", fact, visits[fact.product])
        last_seen[fact.product] = fact.at
        if fact.name == "demo_started":
            started.setdefault(fact.sandbox_id, fact.at)
        if fact.sandbox_id is not None:
            active_until[fact.sandbox_id] = fact.at
    return out


def fit(profile: Profile, rules: Iterable[RuleSpec], at: datetime) -> list[Contribution]:
    """The fit contributions of ``profile`` under ``rules`` (dated ``at``; fit never decays)."""
    by_signal = {rule.signal: rule for rule in rules if rule.kind == "fit"}
    out: list[Contribution] = []

    def earn(signal: str, explanation: str) -> None:
        rule = by_signal.get(signal)
        if rule is not None:
            out.append(
                Contribution(kind="fit", signal=signal, points=rule.points, at=at, key=signal, explanation=explanation)
            )

    if profile.role:
        earn(f"role_{profile.role}", f"{profile.role} (role)")
    if profile.personal_email:
        earn("free_mail", "a free-mail address")
    elif profile.email_domain:
        earn("business_email", f"a business e-mail at {profile.email_domain}")
    if profile.company_size:
        earn(f"company_size_{profile.company_size}", f"company size: {profile.company_size}")
    industries = [i for i in profile.industries if f"industry_{i}" in by_signal]
    if industries:
        best = max(industries, key=lambda i: by_signal[f"industry_{i}"].points)
        earn(f"industry_{best}", f"demoed the {profile.industry_names.get(best, best)} scenario")
    if profile.country:
        earn("country_sales_region", f"based in {profile.country}, a sales region")
    if profile.partner:
        earn("partner_user", f"works for partner {profile.partner}")
    return out


def fit_score(contributions: Iterable[Contribution]) -> int:
    return max(0, min(FIT_MAX, sum(c.points for c in contributions if c.kind == "fit")))


def grade(score: int) -> str:
    for letter, floor in GRADE_FLOORS:
        if score >= floor:
            return letter
    return "D"


def weights(contributions: Iterable[Contribution], anchor: datetime, parameters: Parameters) -> dict[str, float]:
    """Each group's engagement points, each halved per half-life between its time and ``anchor``."""
    out = dict.fromkeys(parameters.half_lives, 0.0)
    for c in contributions:
        if c.kind == "engagement":
            out[c.group] += decayed(c.points, c.at, anchor, parameters.half_lives[c.group])
    return out


def decayed(points: float, at: datetime, now: datetime, half_life: timedelta) -> float:
    """``points`` earned ``at``, as worth at ``now``: halved every ``half_life`` (never grown by a future date)."""
    age = max(timedelta(0), now - at)
    return float(points * 0.5 ** (age / half_life))


def engagement_at(
    group_weights: Mapping[str, float], anchor: datetime | None, now: datetime, parameters: Parameters
) -> float:
    """The engagement score at ``now`` from the weights stored at ``anchor``."""
    if anchor is None:
        return 0.0
    return sum(decayed(w, anchor, now, parameters.half_lives[g]) for g, w in group_weights.items())


def qualifying_reason(
    *, fit_grade: str, engagement_now: float, hand_raises: Sequence[Contribution], parameters: Parameters
) -> str:
    """Why the grid makes this lead an MQL now ("" if it does not): a hand-raise, or enough engagement for
    a good enough fit."""
    if hand_raises:
        first = min(hand_raises, key=lambda c: c.at)
        return f"Hand-raise: {first.explanation}"
    # The score as shown (rounded): 60 points earned a minute ago have decayed to 59.999, and still make 60.
    if fit_grade in parameters.mql_fit_grades and round(engagement_now) >= parameters.mql_engagement:
        return f"Engagement {engagement_now:.0f} (at least {parameters.mql_engagement}) with fit {fit_grade}"
    return ""


# The first rule set (docs/scoring.md says why each is worth what it is). Engagement: the specification's
# nine, then the catalogue's other events as a demand-generation team would weigh them.
DEFAULT_RULES = (
    RuleSpec("engagement", "pricing_requested", 50, group="intent", hand_raise=True),
    RuleSpec("engagement", "sales_contact_requested", 40, group="intent", hand_raise=True),
    RuleSpec("engagement", "demo_extended", 30, group="intent"),
    RuleSpec("engagement", "feature_depth", 25),
    RuleSpec("engagement", "demo_completed", 20),
    RuleSpec("engagement", "report_generated", 15),
    RuleSpec("engagement", "multiple_sessions", 10),
    RuleSpec("engagement", "demo_started", 5),
    RuleSpec("engagement", "quick_abandonment", -10),
    RuleSpec("engagement", "poc_started", 50, group="intent", hand_raise=True),
    RuleSpec("engagement", "trial_extended", 30, group="intent"),
    RuleSpec("engagement", "savings_calculated", 10),
    RuleSpec("engagement", "optimization_applied", 10),
    RuleSpec("engagement", "alert_acknowledged", 5),
    RuleSpec("fit", "role_executive", 30),
    RuleSpec("fit", "role_engineer", 25),
    RuleSpec("fit", "role_consultant", 10),
    RuleSpec("fit", "role_operator", 10),
    RuleSpec("fit", "business_email", 20),
    RuleSpec("fit", "free_mail", -20),
    RuleSpec("fit", "company_size_enterprise", 30),
    RuleSpec("fit", "company_size_large", 25),
    RuleSpec("fit", "company_size_medium", 15),
    RuleSpec("fit", "company_size_small", 5),
    RuleSpec("fit", "industry_steel", 15),
    RuleSpec("fit", "industry_cement", 15),
    RuleSpec("fit", "industry_chemicals", 15),
    RuleSpec("fit", "industry_oil_gas", 15),
    RuleSpec("fit", "industry_food_beverage", 10),
    RuleSpec("fit", "country_sales_region", 10),
    RuleSpec("fit", "partner_user", -40),
)


def recommended_action(
    *,
    stage: str,
    stage_reason: str,
    contributions: Sequence[Contribution],
    engagement_now: float,
    parameters: Parameters,
    colleagues: Sequence[str] = (),
) -> str:
    """What sales should do next with a lead, from its stage and signals (docs/scoring.md lists the rules).
    ``colleagues``: what others of the same account did, e.g. "their engineer completed the tour"."""
    also = f"; {', '.join(colleagues[:2])}" if colleagues else ""
    latest = sorted(contributions, key=lambda c: c.at, reverse=True)
    hand_raises = [c for c in latest if c.hand_raise]
    if stage == "disqualified":
        return f"None — disqualified ({stage_reason})"
    if stage == "opportunity":
        return f"Work the opportunity{also}"
    if stage == "sql":
        return f"Follow up the accepted lead{also}"
    if stage == "mql":
        if hand_raises:
            first = hand_raises[0]
            verb = {
                "pricing_requested": "Call today",
                "sales_contact_requested": "Prepare the booked call",
                "poc_started": "Scope the proof of concept",
            }.get(first.signal, "Call today")
            return f"{verb} — {first.explanation}{also}"
        top = sorted((c for c in contributions if c.kind == "engagement" and c.points > 0), key=lambda c: -c.points)
        did = ", ".join(c.explanation for c in top[:2])
        return f"Call this week — {did}{also}" if did else f"Call this week{also}"
    abandoned = next((c for c in latest[:3] if c.signal == "quick_abandonment"), None)
    if abandoned is not None:
        return f"Re-engage — {abandoned.explanation}: offer a guided demo"
    if engagement_now >= parameters.mql_engagement / 2:
        return f"Nurture — close to MQL ({engagement_now:.0f} of {parameters.mql_engagement}){also}"
    if stage == "recycled":
        return "Nurture — recycled; a new hand-raise brings the lead back"
    return "Nurture — marketing e-mails until they engage"
