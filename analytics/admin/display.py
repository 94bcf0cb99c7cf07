"""How scores, grades and stages read in the admin: one look for the same thing on every page."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from analytics.models import Lead
from analytics.selectors.leads import ROLES
from demoportal.core import catalogue

# The lead and rule pages are wide tables and two-column pages: without the admin's navigation sidebar,
# which would leave a 1280 px screen some 650 px for them (the breadcrumbs lead back; the other admin
# pages keep it).
WIDE_PAGE = {"is_nav_sidebar_enabled": False}


def product_names() -> dict[str, str]:
    """Product key → display name ("boileroptimizer" → "BoilerOptimizer"), from the catalogue."""
    return {item["key"]: item["name"] for item in catalogue.products()}


def product_name(key: str) -> str:
    return product_names().get(key, key)


def industry_names() -> dict[str, str]:
    """Scenario key → industry ("oil_gas" → "Oil & gas")."""
    return {key: scenario.industry for key, scenario in sorted(catalogue.scenarios().items())}


def stage_label(stage: str) -> str:
    return str(dict(Lead.Stage.choices).get(stage, stage))


def grade_badge(grade: str, score: int | None = None) -> SafeString:
    """The fit grade as a coloured letter (A green … D grey), with the fit score beside it when given."""
    letter = grade if grade in ("A", "B", "C", "D") else "D"
    badge = format_html(
        '<span class="lead-grade lead-grade-{}" title="Fit grade {}">{}</span>', letter.lower(), letter, letter
    )
    if score is None:
        return badge
    return format_html('{}<span class="lead-fit-score" title="Fit score, 0 to 100">{}</span>', badge, score)


def stage_pill(stage: str) -> SafeString:
    return format_html('<span class="lead-stage lead-stage-{}">{}</span>', stage, stage_label(stage))


def score_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def ago(moment: datetime | None) -> SafeString | str:
    """ "3 hours ago", with the exact time on hover."""
    if moment is None:
        return "—"
    exact = f"{timezone.localtime(moment):%-d %b %Y %H:%M}"
    since = timesince(moment, depth=1)
    return format_html('<time datetime="{}" title="{}">{} ago</time>', moment.isoformat(), exact, since)


def roles_text(covered: list[str]) -> str:
    """ "engineer, executive — 2 of 4"."""
    if not covered:
        return f"no role given — 0 of {len(ROLES)}"
    return f"{', '.join(covered)} — {len(covered)} of {len(ROLES)}"
