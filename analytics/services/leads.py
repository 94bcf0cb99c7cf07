"""Writes to leads: scoring a lead from its events and profile, moving it through the stages, and
rescoring every lead when a rule set is previewed or applied.

The ledger (``ScoreEntry``) is the truth; a lead's stored totals are derived from it in the same
transaction. Scoring one lead locks its row, so two events of one lead scored at once are scored one
after the other, each from every event committed before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from analytics import scoring
from analytics.models import DemoSource, Event, Lead, LeadStageChange, Rule, RuleSet, ScoreEntry
from analytics.signals import lead_scored
from demoportal.core import catalogue
from demoportal.core.exceptions import DomainError
from demoportal.core.mail import mail_subject
from demoportal.core.models import User

Stage = Lead.Stage
COMPANY_SIZE_SIGNALS = {"1-249": "small", "250-999": "medium", "1000-4999": "large", "5000+": "enterprise"}
# Stages the scoring moves a lead out of by itself; the others are sales' to change.
OPEN_STAGES = (Stage.LEAD, Stage.RECYCLED)


def rule_set_active() -> RuleSet:
    """The rule set in use (the first one is made by analytics' migration 0004)."""
    return RuleSet.objects.get(status=RuleSet.Status.ACTIVE)


def parameters_of(rule_set: RuleSet) -> scoring.Parameters:
    return scoring.Parameters(
        feature_depth_min=rule_set.feature_depth_min,
        session_gap=timedelta(minutes=rule_set.session_gap_minutes),
        quick_abandonment=timedelta(minutes=rule_set.quick_abandonment_minutes),
        half_lives={
            Rule.Group.INTENT: timedelta(days=rule_set.intent_half_life_days),
            Rule.Group.ACTIVITY: timedelta(days=rule_set.activity_half_life_days),
        },
        mql_engagement=rule_set.mql_engagement,
        mql_fit_grades=rule_set.mql_fit_grades,
    )


def rules_of(rule_set: RuleSet) -> list[scoring.RuleSpec]:
    return [
        scoring.RuleSpec(
            kind=rule.kind,
            signal=rule.signal,
            points=rule.points,
            max_per_demo=rule.max_per_demo,
            group=rule.group,
            hand_raise=rule.hand_raise,
        )
        for rule in rule_set.rules.all()
    ]


@dataclass(frozen=True)
class Scorer:
    """A rule set made ready to score with: its rules, parameters and the products' display names."""

    rule_set: RuleSet
    rules: list[scoring.RuleSpec]
    parameters: scoring.Parameters
    product_names: dict[str, str]

    @classmethod
    def of(cls, rule_set: RuleSet) -> Scorer:
        names = {item["key"]: item["name"] for item in catalogue.products()}
        return cls(rule_set, rules_of(rule_set), parameters_of(rule_set), names)


def is_scored(user: User) -> bool:
    """Scoring is part of the follow-up a prospect agreed to at sign-up ("the vendor may contact me about its
    products and this demo"): a login without that consent, or staff, is not a lead."""
    return user.contact_consent_at is not None and not user.is_staff


def account_domain_of(user: User) -> str:
    """The company's e-mail domain, which leads roll up to; free-mail addresses roll up to nothing."""
    if user.personal_email or catalogue.is_personal_email(user.email):
        return ""
    return user.email.rpartition("@")[2].lower()


def profile_of(user: User, industries: Sequence[str]) -> scoring.Profile:
    country = str(user.country or "")
    partner = user.partner.name if user.partner_id is not None and user.partner is not None else ""
    return scoring.Profile(
        role=user.role,
        industry_names={key: catalogue.industry_name(key) for key in industries},
        personal_email=user.personal_email or catalogue.is_personal_email(user.email),
        email_domain=user.email.rpartition("@")[2].lower(),
        company_size=COMPANY_SIZE_SIGNALS.get(user.company_size, ""),
        country=country if country in settings.SALES_COUNTRIES else "",
        partner=partner,
        industries=industries,
    )


def fact_rows(user_ids: Iterable[int]) -> Any:
    """The events of these users, as (user id, id, name, time, sandbox id, sandbox product, sandbox industry,
    properties) rows."""
    return (
        Event.objects.filter(user_id__in=list(user_ids))
        .order_by()
        .values_list(
            "user_id", "id", "name", "occurred_at", "sandbox_id", "sandbox__product", "sandbox__industry", "properties"
        )
    )


@dataclass
class Scored:
    """A lead's contributions under a rule set, and what they add up to now."""

    contributions: list[scoring.Contribution]
    fit_score: int
    fit_grade: str
    weights: dict[str, float]
    engagement_points: int
    last_activity_at: datetime | None
    products: list[str]
    industries: list[str]
    source: str = ""  # who made the sandbox of their first demo

    def engagement_now(self, scorer: Scorer, now: datetime) -> float:
        return scoring.engagement_at(self.weights, now, now, scorer.parameters)

    def qualifying_reason(self, scorer: Scorer, now: datetime, since: datetime | None) -> str:
        """Why the grid makes this an MQL at ``now``. For a recycled lead (``since``: when it was recycled) only
        what it did afterwards counts, so old interest does not bring it straight back."""
        engagement = self.engagement_now(scorer, now)
        recent = self.contributions
        if since is not None:
            recent = [c for c in self.contributions if c.at > since]
            engagement = scoring.engagement_at(
                scoring.weights(recent, now, scorer.parameters), now, now, scorer.parameters
            )
        return scoring.qualifying_reason(
            fit_grade=self.fit_grade,
            engagement_now=engagement,
            hand_raises=[c for c in recent if c.hand_raise],
            parameters=scorer.parameters,
        )


def score(*, user: User, rows: Sequence[tuple[Any, ...]], scorer: Scorer, now: datetime) -> Scored:
    """Score ``user`` from their event ``rows`` (``fact_rows``) under ``scorer``: pure, writes nothing."""
    facts = []
    products: list[str] = []
    industries: list[str] = []
    for _user_id, event_id, name, at, sandbox_id, sandbox_product, sandbox_industry, properties in sorted(
        rows, key=lambda r: (r[3], r[1])
    ):
        product = sandbox_product or str(properties.get("product") or "")
        facts.append(scoring.Fact(event_id, name, at, product, sandbox_id, properties))
        if product and product not in products:
            products.append(product)
        if sandbox_industry and sandbox_industry not in industries:
            industries.append(sandbox_industry)
    engagement = scoring.engagement(facts, scorer.rules, scorer.parameters, scorer.product_names)
    fit = scoring.fit(profile_of(user, industries), scorer.rules, at=user.date_joined)
    fit_score = scoring.fit_score(fit)
    return Scored(
        contributions=[*fit, *engagement],
        fit_score=fit_score,
        fit_grade=scoring.grade(fit_score),
        weights=scoring.weights(engagement, now, scorer.parameters),
        engagement_points=sum(c.points for c in engagement),
        last_activity_at=max((f.at for f in facts if f.name != "demo_abandoned"), default=None),
        products=products,
        industries=industries,
        source=source_of(user, facts),
    )


def source_of(user: User, facts: Sequence[scoring.Fact]) -> str:
    """Who made the sandbox of the lead's first demo (``DemoSource``); a start recorded before sources were
    recorded counts as the partner's for a partner's user, else as self-service. Empty without a demo."""
    first = next((fact for fact in facts if fact.name == "demo_started"), None)
    if first is None:
        return ""
    fallback = DemoSource.PARTNER if user.partner_id is not None else DemoSource.SELF_SERVICE
    return str(first.properties.get("source") or fallback)


def entry_of(lead: Lead, rule_set: RuleSet, c: scoring.Contribution) -> ScoreEntry:
    return ScoreEntry(
        lead=lead,
        rule_set=rule_set,
        kind=c.kind,
        signal=c.signal,
        group=c.group,
        points=c.points,
        event_id=c.event_id,
        product=c.product,
        occurred_at=c.at,
        key=c.key,
        explanation=c.explanation[:300],
    )


COLLEAGUE_SIGNALS = ("demo_completed", "pricing_requested", "sales_contact_requested", "poc_started")


def colleagues_by_domain(
    domains: Iterable[str], *, besides: Iterable[tuple[int, str, str, Sequence[scoring.Contribution]]] = ()
) -> dict[str, list[tuple[int, str]]]:
    """Per account domain, (lead id, "their engineer completed the ThermalCommand tour") for what its people
    did that tells sales the account is moving: the tour completed, a hand-raise; the latest first.
    ``besides``: leads being scored together, as (lead id, account domain, role, contributions), taken as
    they are now scored rather than as the ledger has them (a rescore's batch)."""
    scoring_now = [lead for lead in besides if lead[1]]
    notes = list(
        ScoreEntry.objects.filter(lead__account_domain__in=[d for d in set(domains) if d], signal__in=COLLEAGUE_SIGNALS)
        .exclude(lead_id__in=[lead_id for lead_id, *_ in scoring_now])
        .values_list("occurred_at", "lead__account_domain", "lead_id", "lead__user__role", "explanation")
    )
    for lead_id, domain, role, contributions in scoring_now:
        notes += [
            (c.at, domain, lead_id, role, c.explanation[:300]) for c in contributions if c.signal in COLLEAGUE_SIGNALS
        ]
    out: dict[str, list[tuple[int, str]]] = {}
    for _at, domain, lead_id, role, explanation in sorted(notes, key=lambda note: note[0], reverse=True):
        out.setdefault(domain, []).append((lead_id, f"their {role or 'colleague'} {explanation}"))
    return out


def lead_apply(
    *, lead: Lead, scored: Scored, scorer: Scorer, now: datetime, colleagues: Sequence[tuple[int, str]] = ()
) -> list[str]:
    """Write ``scored`` to ``lead`` (locked by the caller): the ledger rows that are new, none that are
    gone, the totals, an MQL when the grid says so, and the recommended action (``colleagues``: what
    others of the account did, from ``colleagues_by_domain``). Returns what sales should be told."""
    rule_set = scorer.rule_set
    wanted = {c.key: c for c in scored.contributions}
    existing = dict(ScoreEntry.objects.filter(lead=lead, rule_set=rule_set).values_list("key", "pk"))
    ScoreEntry.objects.filter(lead=lead).exclude(rule_set=rule_set).delete()
    stale = [pk for key, pk in existing.items() if key not in wanted]
    if stale:
        ScoreEntry.objects.filter(pk__in=stale).delete()
    new = [c for key, c in wanted.items() if key not in existing]
    ScoreEntry.objects.bulk_create([entry_of(lead, rule_set, c) for c in new], ignore_conflicts=True)
    tell = [f"Hand-raise: {c.explanation}" for c in new if c.hand_raise]
    change = lead_fields_set(lead=lead, scored=scored, scorer=scorer, now=now, colleagues=colleagues)
    if change is not None:
        change.save()
        tell = [f"New MQL — {change.reason}"]
    lead.save()
    return tell


def lead_fields_set(
    *, lead: Lead, scored: Scored, scorer: Scorer, now: datetime, colleagues: Sequence[tuple[int, str]] = ()
) -> LeadStageChange | None:
    """Set ``scored`` on ``lead`` in memory, writing nothing: the totals, an MQL when the grid says so (its
    audit row is returned unsaved, for the caller to save with the lead) and the recommended action. The one
    place these rules live: ``lead_apply`` and a rescore's batches write what it sets; a preview reads it."""
    lead.rule_set = scorer.rule_set
    lead.fit_score, lead.fit_grade = scored.fit_score, scored.fit_grade
    lead.intent_weight = scored.weights.get(Rule.Group.INTENT, 0.0)
    lead.activity_weight = scored.weights.get(Rule.Group.ACTIVITY, 0.0)
    lead.decay_anchor = now
    lead.engagement_points = scored.engagement_points
    lead.last_activity_at = scored.last_activity_at
    lead.products, lead.industries, lead.source = scored.products, scored.industries, scored.source
    change = None
    if lead.stage in OPEN_STAGES:
        since = lead.stage_changed_at if lead.stage == Stage.RECYCLED else None
        reason = scored.qualifying_reason(scorer, now, since)
        if reason:
            change = stage_change_of(lead=lead, after=Stage.MQL, actor=None, reason=reason)
    lead.recommended_action = scoring.recommended_action(
        stage=lead.stage,
        stage_reason=lead.stage_reason,
        contributions=scored.contributions,
        engagement_now=scored.engagement_now(scorer, now),
        parameters=scorer.parameters,
        colleagues=list(dict.fromkeys(text for lead_id, text in colleagues if lead_id != lead.pk)),
    )[:300]
    return change


def lead_refresh(*, user: User, now: datetime | None = None, event: Event | None = None) -> Lead | None:
    """Score ``user`` from all their events under the active rule set and store it (None: not a lead, see
    ``is_scored``). Sales are told, once committed, of a new MQL or a new hand-raise; ``lead_scored`` is sent
    inside the transaction (``event``: what caused it)."""
    if not is_scored(user):
        return None
    now = now or timezone.now()
    scorer = Scorer.of(rule_set_active())
    with transaction.atomic():
        lead, _ = Lead.objects.select_for_update().get_or_create(user=user)
        lead.account_domain = account_domain_of(user)  # saved with the scores (lead_apply)
        scored = score(user=user, rows=list(fact_rows([user.pk])), scorer=scorer, now=now)
        colleagues = colleagues_by_domain([lead.account_domain]).get(lead.account_domain, [])
        tell = lead_apply(lead=lead, scored=scored, scorer=scorer, now=now, colleagues=colleagues)
        lead_scored.send(sender=Lead, lead=lead, event=event, told=tell)
        if tell:
            lead_id = lead.pk
            transaction.on_commit(lambda: sales_tell_later(lead_id=lead_id, reasons=tell))
    return lead


def sales_tell_later(*, lead_id: int, reasons: list[str]) -> None:
    from analytics.tasks import lead_sales_notify  # the tasks module imports this one

    lead_sales_notify.delay(lead_id=lead_id, reasons=reasons)


def stage_change(*, lead: Lead, after: str, actor: User | None, reason: str) -> None:
    """Move ``lead`` (saved by the caller) to stage ``after``, audited."""
    stage_change_of(lead=lead, after=after, actor=actor, reason=reason).save()


def stage_change_of(*, lead: Lead, after: str, actor: User | None, reason: str) -> LeadStageChange:
    """Move ``lead`` to stage ``after`` in memory; returns its audit row, unsaved."""
    change = LeadStageChange(lead=lead, before=lead.stage, after=after, actor=actor, reason=reason[:300])
    lead.stage, lead.stage_changed_at, lead.stage_reason = after, timezone.now(), reason[:300]
    # When the lead first qualified, and when sales first accepted it: the dashboards' MQL and SQL rates.
    if after in (Stage.MQL, Stage.SQL, Stage.OPPORTUNITY) and lead.mql_at is None:
        lead.mql_at = lead.stage_changed_at
    if after in (Stage.SQL, Stage.OPPORTUNITY) and lead.sql_at is None:
        lead.sql_at = lead.stage_changed_at
    return change


# What sales may do to a lead, from which stages.
STAGE_ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "accept": (Stage.SQL, (Stage.LEAD, Stage.MQL, Stage.RECYCLED)),
    "opportunity": (Stage.OPPORTUNITY, (Stage.SQL, Stage.OPPORTUNITY)),
    "recycle": (Stage.RECYCLED, (Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY)),
    "disqualify": (Stage.DISQUALIFIED, (Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY, Stage.RECYCLED)),
    "reopen": (Stage.LEAD, (Stage.DISQUALIFIED,)),
}


def lead_stage_set(
    *,
    lead: Lead,
    action: str,
    actor: User,
    reason: str = "",
    opportunity_value: Decimal | None = None,
    currency: str = "USD",
) -> Lead:
    """Sales' decisions: ``accept`` (SQL), record an ``opportunity`` (its value, which the dashboards sum),
    ``recycle`` or ``disqualify`` (each with a reason), ``reopen`` a disqualified lead. Audited."""
    if action not in STAGE_ACTIONS:
        raise DomainError(
            f"Unknown action {action!r}.", errors={"action": [f"Use one of: {', '.join(STAGE_ACTIONS)}."]}
        )
    after, allowed = STAGE_ACTIONS[action]
    errors: dict[str, list[str]] = {}
    if action in ("recycle", "disqualify") and not reason.strip():
        errors["reason"] = ["Say why, for the audit trail and for marketing."]
    if action == "opportunity":
        if opportunity_value is None or opportunity_value <= 0:
            errors["opportunity_value"] = ["Enter the opportunity's value, more than 0."]
        if len(currency) != 3 or not currency.isalpha():
            errors["currency"] = ["A three-letter currency code, e.g. USD."]
    if errors:
        raise DomainError("The lead was not changed.", errors=errors)
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        if locked.stage not in allowed:
            raise DomainError(
                f"A lead in stage {locked.get_stage_display()} cannot be moved by {action!r}.",
                errors={"stage": [str(locked.stage)]},
                status_code=409,
            )
        if action == "opportunity":
            locked.opportunity_value, locked.opportunity_currency = opportunity_value, currency.upper()
            reason = reason or f"Opportunity of {currency.upper()} {opportunity_value:,.2f}"
        stage_change(lead=locked, after=after, actor=actor, reason=reason or f"{action} by {actor.email}")
        locked.recommended_action = scoring.recommended_action(
            stage=locked.stage,
            stage_reason=locked.stage_reason,
            contributions=[],
            engagement_now=0.0,
            parameters=scoring.Parameters(),
        )[:300]
        locked.save()
    return locked


def lead_sales_notify(*, lead_id: int, reasons: list[str]) -> int:
    """Tell the Sales group by e-mail that a lead became an MQL or raised a hand: the reasons, the score and
    its breakdown, a link to the lead in the admin and "Watch live" on its sandbox. A new MQL's running
    sandboxes also get LEAD_QUALIFIED_EXTENSION_DAYS more (as staff may, audited), and the prospect sees it
    in the sandbox bar. Returns how many salespeople were written to. Runs in the worker, after commit."""
    from analytics.selectors.leads import breakdown_lines, engagement_now  # the selectors import this module
    from sandboxes.models import Sandbox
    from sandboxes.services import sandbox_extend

    lead = Lead.objects.select_related("user").get(pk=lead_id)
    user = lead.user
    sandboxes = list(Sandbox.objects.filter(owner=user, kind=Sandbox.Kind.DEMO, status=Sandbox.Status.READY))
    if any(reason.startswith("New MQL") for reason in reasons):
        for sandbox in sandboxes:
            extend_qualified(sandbox=sandbox, sandbox_extend=sandbox_extend)
    recipients = list(
        User.objects.filter(groups__name="Sales", is_active=True).exclude(email="").values_list("email", flat=True)
    )
    if not recipients:
        return 0
    base = settings.PORTAL_URL
    lines = "\n".join(f"  {line.text}" for line in breakdown_lines(lead))
    watch = "".join(f"Watch live: {base}/admin/sandboxes/sandbox/{s.pk}/watch/ ({s.name})\n" for s in sandboxes)
    title = user.job_title or (catalogue.role_name(user.role) if user.role else "no title")
    who = f"{user.display_name} <{user.email}>, {title} at {user.company or '—'}"
    body = (
        f"{who}\n\n"
        + "\n".join(reasons)
        + f"\n\nStage: {lead.get_stage_display()} · Fit {lead.fit_grade} ({lead.fit_score})"
        + f" · Engagement {engagement_now(lead):.0f}\nNext: {lead.recommended_action}\n\nWhy:\n{lines}\n\n"
        + f"The lead: {base}/admin/analytics/lead/{lead.pk}/change/\n{watch}"
    )
    message = EmailMessage(
        subject=mail_subject(
            f"{reasons[0][:120]} — {user.display_name}" + (f", {user.company}" if user.company else "")
        ),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[user.email],
    )
    message.send()
    return len(recipients)


def extend_qualified(*, sandbox: Any, sandbox_extend: Any) -> None:
    """Give a qualified lead's sandbox LEAD_QUALIFIED_EXTENSION_DAYS more, as far as the staff cap allows;
    once per sandbox (a retried notification does not extend again)."""
    if sandbox.audit_entries.filter(action="extend", detail__reason=QUALIFIED_EXTENSION_REASON).exists():
        return
    assert sandbox.expires_at is not None
    cap = sandbox.created_at + timedelta(days=settings.SANDBOX_MAX_DAYS_STAFF)
    room = int((cap - sandbox.expires_at).total_seconds() // 3600)
    hours = min(settings.LEAD_QUALIFIED_EXTENSION_DAYS * 24, 168, room)
    if hours >= 1:
        sandbox_extend(sandbox=sandbox, hours=hours, reason=QUALIFIED_EXTENSION_REASON, on_behalf_of_sales=True)


QUALIFIED_EXTENSION_REASON = "Qualified lead: more time to evaluate"
