"""The admin's forms for leads, scoring rules and the dashboards' filters.

The stage forms only read what was typed (a number is a number); whether the move is allowed — a reason
given, a value above 0, a currency code, the lead's stage — is the service's rule (``lead_stage_set``),
and its ``DomainError`` messages are put back on these forms, beside the field they name.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from django import forms
from django.utils import timezone

from analytics.models import EVENT_NAMES, DemoSource, Rule, RuleSet
from analytics.scoring import DERIVED_SIGNALS
from analytics.selectors.dashboards import Filters
from analytics.services.leads import COMPANY_SIZE_SIGNALS
from analytics.services.rollups import day_of
from demoportal.core import catalogue
from demoportal.core.models import Partner
from demoportal.core.webforms import BaseForm, SingleValueFieldsMixin

REASON_MAX = 300  # LeadStageChange.reason


def reason_field(*, label: str, placeholder: str) -> forms.CharField:
    """The free text a stage change is recorded with (required or not, the service decides)."""
    return forms.CharField(
        required=False,
        max_length=REASON_MAX,
        label=label,
        widget=forms.TextInput(attrs={"placeholder": placeholder, "size": 34}),
    )


class StageForm(BaseForm):
    """One of sales' stage actions on a lead (``analytics.services.leads.STAGE_ACTIONS``)."""

    action: ClassVar[str]
    title: ClassVar[str]
    submit: ClassVar[str]
    help: ClassVar[str] = ""
    danger: ClassVar[bool] = False

    reason = reason_field(label="Note", placeholder="Optional")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.action)
        super().__init__(*args, **kwargs)

    def service_arguments(self) -> dict[str, Any]:
        """What ``lead_stage_set`` takes from this form (after ``is_valid``)."""
        return {"reason": self.cleaned_data["reason"]}


class AcceptForm(StageForm):
    action = "accept"
    title = "Accept"
    submit = "Accept as SQL"
    help = "Sales take it on: the lead becomes a sales-qualified lead."


class OpportunityForm(StageForm):
    action = "opportunity"
    title = "Record an opportunity"
    submit = "Record opportunity"
    help = "Its value is what the dashboards add up."

    value = forms.DecimalField(
        required=False,
        max_digits=14,
        decimal_places=2,
        label="Value",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "e.g. 120000", "size": 12}),
    )
    currency = forms.CharField(
        required=False,
        initial="USD",
        label="Currency",
        widget=forms.TextInput(attrs={"size": 4, "maxlength": 3, "autocapitalize": "characters"}),
    )
    field_order = ["value", "currency", "reason"]

    def service_arguments(self) -> dict[str, Any]:
        return {
            **super().service_arguments(),
            "opportunity_value": self.cleaned_data["value"],
            "currency": self.cleaned_data["currency"].strip(),
        }


class RecycleForm(StageForm):
    action = "recycle"
    title = "Recycle"
    submit = "Recycle"
    help = "Back to marketing's nurturing; a new hand-raise brings the lead back."

    reason = reason_field(label="Reason", placeholder="e.g. no budget until next year")


class DisqualifyForm(StageForm):
    action = "disqualify"
    title = "Disqualify"
    submit = "Disqualify"
    help = "Not a prospect (a competitor, a student, a wrong fit); reopen it if that was wrong."
    danger = True

    reason = reason_field(label="Reason", placeholder="e.g. competitor")


class ReopenForm(StageForm):
    action = "reopen"
    title = "Reopen"
    submit = "Reopen as lead"
    help = "Back to an open lead, scored as before."


STAGE_FORMS: dict[str, type[StageForm]] = {
    form.action: form for form in (AcceptForm, OpportunityForm, RecycleForm, DisqualifyForm, ReopenForm)
}


# SCORING RULES


def fit_signals() -> list[tuple[str, str]]:
    """The fit attributes a rule may score (``analytics.scoring.fit``), as (signal, label)."""
    roles = [(f"role_{role['key']}", f"role: {role['name']}") for role in catalogue.roles()]
    sizes = [(f"company_size_{size}", f"company size: {size}") for size in COMPANY_SIZE_SIGNALS.values()]
    industries = [
        (f"industry_{key}", f"industry demoed: {scenario.industry}")
        for key, scenario in sorted(catalogue.scenarios().items())
    ]
    others = [
        ("business_email", "business e-mail"),
        ("free_mail", "free-mail address"),
        ("country_sales_region", "country in a sales region"),
        ("partner_user", "works for a partner"),
    ]
    return [*roles, *sizes, *industries, *others]


def engagement_signals() -> list[tuple[str, str]]:
    """The events and derived signals an engagement rule may score (``analytics.scoring.engagement``)."""
    events = [(name, name.replace("_", " ")) for name in EVENT_NAMES if name != "demo_abandoned"]
    derived = [(name, f"{name.replace('_', ' ')} (derived)") for name in DERIVED_SIGNALS]
    return [*events, *derived]


NARROW = forms.NumberInput(attrs={"class": "vNarrow"})


class RuleForm(SingleValueFieldsMixin, forms.ModelForm[Rule]):
    """A rule of a draft: the signal picked from those the scoring knows, and of the rule's kind (a typo
    would silently score nothing)."""

    signal = forms.ChoiceField(choices=())
    points = forms.IntegerField(min_value=-100, max_value=100, widget=NARROW)
    max_per_demo = forms.IntegerField(min_value=1, max_value=100, initial=1, label="Max per demo", widget=NARROW)

    class Meta:
        model = Rule
        fields = ["kind", "signal", "points", "max_per_demo", "group", "hand_raise"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fit, engagement = fit_signals(), engagement_signals()
        known = {signal for signal, _ in (*fit, *engagement)}
        choices: list[Any] = [("", "---------"), ("Fit", fit), ("Engagement", engagement)]
        if self.instance.pk and self.instance.signal not in known:
            choices.append(("Kept from an earlier version", [(self.instance.signal, self.instance.signal)]))
        self.fields["signal"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, signal = data.get("kind"), data.get("signal")
        if kind and signal:
            fit = {name for name, _ in fit_signals()}
            engagement = {name for name, _ in engagement_signals()}
            if kind == Rule.Kind.FIT and signal in engagement:
                self.add_error("signal", f"“{signal}” is an engagement signal: choose kind engagement.")
            elif kind == Rule.Kind.ENGAGEMENT and signal in fit:
                self.add_error("signal", f"“{signal}” is a fit attribute: choose kind fit.")
            if kind == Rule.Kind.FIT and data.get("hand_raise"):
                self.add_error("hand_raise", "Only an engagement signal can be a hand-raise.")
        return data


def at_least_one(label: str, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(min_value=1, max_value=32767, label=label, help_text=help_text)


class RuleSetForm(SingleValueFieldsMixin, forms.ModelForm[RuleSet]):
    """A draft's note and parameters (a half-life, a gap or a depth of 0 would divide by nothing or mean
    nothing: at least 1)."""

    intent_half_life_days = at_least_one("Intent half-life (days)", "Hand-raises and buying signals halve this often.")
    activity_half_life_days = at_least_one("Activity half-life (days)", "What they explored halves this often.")
    feature_depth_min = at_least_one("Feature depth", "Distinct features explored in one product demo that earn it.")
    session_gap_minutes = at_least_one("Session gap (minutes)", "Quiet time that separates two visits.")

    class Meta:
        model = RuleSet
        fields = [
            "note",
            "mql_engagement",
            "mql_fit_grades",
            "intent_half_life_days",
            "activity_half_life_days",
            "feature_depth_min",
            "session_gap_minutes",
            "quick_abandonment_minutes",
        ]
        # Also the labels of an applied (read-only) version's page: the admin reads them from here.
        labels = {
            "mql_engagement": "MQL at engagement",
            "mql_fit_grades": "MQL fit grades",
            "intent_half_life_days": "Intent half-life (days)",
            "activity_half_life_days": "Activity half-life (days)",
            "feature_depth_min": "Feature depth",
            "session_gap_minutes": "Session gap (minutes)",
            "quick_abandonment_minutes": "Quick abandonment (minutes)",
        }

    def clean_mql_fit_grades(self) -> str:
        grades = "".join(str(self.cleaned_data["mql_fit_grades"]).upper().split())
        unknown = sorted(set(grades) - set("ABCD"))
        if unknown:
            raise forms.ValidationError(f"Fit grades are A, B, C and D; not {', '.join(unknown)}.")
        return "".join(sorted(set(grades)))


# The dashboards' filters (docs/dashboards.md): one parser for the pages and the API, which answers its errors
# with a 400 naming each field.

MAX_RANGE_DAYS = 731


def dimension_choices() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(field, label, choices) of the catalogue's dimensions."""
    return [
        ("product", "Product", [(p["key"], p["name"]) for p in catalogue.products()]),
        ("industry", "Industry", [(key, s.industry) for key, s in sorted(catalogue.scenarios().items())]),
        ("role", "Role", [(r["key"], r["name"]) for r in catalogue.roles()]),
    ]


class DashboardFilterForm(BaseForm):
    """``from``, ``to`` (YYYY-MM-DD, both included; default the last 30 days), ``product``, ``industry``, ``role``,
    ``partner`` (its slug), ``source``, ``interval`` (day or week). ``filters()`` after ``is_valid``."""

    partner = forms.ModelChoiceField(
        queryset=Partner.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        label="Partner",
        empty_label="All partners",
        error_messages={"invalid_choice": "No partner has this slug."},
    )
    source = forms.ChoiceField(required=False, label="Source", choices=[("", "All sources"), *DemoSource.choices])
    interval = forms.ChoiceField(
        required=False, label="Chart by", choices=[("", "Automatic"), ("day", "Day"), ("week", "Week")]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        date_errors = {"invalid": "Enter a date as YYYY-MM-DD."}
        for name, label in (("from", "From"), ("to", "To")):
            widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            self.fields[name] = forms.DateField(required=False, label=label, widget=widget, error_messages=date_errors)
        for name, label, choices in dimension_choices():
            keys = ", ".join(key for key, _ in choices)
            self.fields[name] = forms.ChoiceField(
                required=False,
                label=label,
                choices=[("", f"All {label.lower()}s" if name != "industry" else "All industries"), *choices],
                error_messages={"invalid_choice": f"Use one of: {keys}."},
            )
        self.fields["source"].error_messages["invalid_choice"] = f"Use one of: {', '.join(DemoSource.values)}."
        self.fields["interval"].error_messages["invalid_choice"] = "Use one of: day, week."
        self.order_fields(["from", "to", "product", "industry", "role", "partner", "source", "interval"])
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"filter-{name}")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("from"), data.get("to")
        if "from" in self.errors or "to" in self.errors:
            return data
        today = day_of(timezone.now())
        end = end or (start + timedelta(days=29) if start else today)
        start = start or end - timedelta(days=29)
        if start > end:
            self.add_error("to", "Must be on or after “from”.")
        elif (end - start).days + 1 > MAX_RANGE_DAYS:
            self.add_error("from", f"A range of at most {MAX_RANGE_DAYS} days.")
        data["from"], data["to"] = start, end
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        partner = data.get("partner")
        return Filters(
            start=data["from"],
            end=data["to"],
            product=data.get("product") or "",
            industry=data.get("industry") or "",
            role=data.get("role") or "",
            partner_id=partner.pk if partner is not None else None,
            source=data.get("source") or "",
            interval=data.get("interval") or "",
        )
