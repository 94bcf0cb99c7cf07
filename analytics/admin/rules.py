"""Scoring rules in the admin, marketing's: a draft version is edited (its parameters and rules), previewed
against every lead and applied; an applied version never changes again, so "New version from this" starts
the next draft. Sales read the rules and the jobs; they change nothing.

The buttons call ``analytics.services.rules``; the worker runs the preview or application
(``analytics.tasks.rescore``) and the job page follows its progress.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst

from analytics.admin.display import WIDE_PAGE, stage_label
from analytics.forms import RuleForm, RuleSetForm
from analytics.models import Lead, RescoreJob, Rule, RuleSet
from analytics.services.rules import rescore_start, rule_set_new_version
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User

PARAMETERS = {
    "mql_engagement": "MQL at engagement",
    "mql_fit_grades": "MQL fit grades",
    "intent_half_life_days": "intent half-life (days)",
    "activity_half_life_days": "activity half-life (days)",
    "feature_depth_min": "feature depth (features)",
    "session_gap_minutes": "session gap (minutes)",
    "quick_abandonment_minutes": "quick abandonment (minutes)",
}


def may_start_jobs(request: HttpRequest) -> bool:
    return bool(request.user.has_perm("analytics.add_rescorejob"))


def may_apply(request: HttpRequest) -> bool:
    return may_start_jobs(request) and bool(request.user.has_perm("analytics.change_ruleset"))


def may_add_version(request: HttpRequest) -> bool:
    return bool(request.user.has_perm("analytics.add_ruleset"))


class RuleInline(admin.TabularInline[Rule, RuleSet]):
    """The rules of a version: editable in a draft, read-only once applied."""

    model = Rule
    form = RuleForm
    extra = 0
    fields = ["kind", "signal", "points", "max_per_demo", "group", "hand_raise"]

    # The admin passes the rule set (the parent), not a rule, to an inline's permission checks.
    @staticmethod
    def is_draft(obj: Any) -> bool:
        return isinstance(obj, RuleSet) and obj.status == RuleSet.Status.DRAFT

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.is_draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.is_draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.is_draft(obj) and super().has_delete_permission(request, obj)


@dataclass(frozen=True)
class Change:
    """One difference between two versions: a parameter or a rule, as it was and as it would be."""

    what: str
    before: str
    after: str


def rule_text(rule: Rule) -> str:
    extra = []
    if rule.kind == Rule.Kind.ENGAGEMENT:
        if rule.max_per_demo > 1:
            extra.append(f"up to {rule.max_per_demo}× per demo")
        if rule.group == Rule.Group.INTENT:
            extra.append("intent")
        if rule.hand_raise:
            extra.append("hand-raise")
    return f"{rule.points:+d}" + (f" ({', '.join(extra)})" if extra else "")


def changes_between(old: RuleSet | None, new: RuleSet) -> list[Change]:
    """What ``new`` changes from ``old`` (the version in use): parameters, then rules added, changed, removed."""
    if old is None:
        return []
    out = []
    for name, label in PARAMETERS.items():
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            out.append(Change(label, str(before), str(after)))
    old_rules = {(r.kind, r.signal): r for r in old.rules.all()}
    new_rules = {(r.kind, r.signal): r for r in new.rules.all()}
    for key in sorted(old_rules.keys() | new_rules.keys()):
        before_rule, after_rule = old_rules.get(key), new_rules.get(key)
        before_text = rule_text(before_rule) if before_rule else "—"
        after_text = rule_text(after_rule) if after_rule else "removed"
        if before_text != after_text:
            out.append(Change(f"{key[0]}: {key[1]}", before_text, after_text))
    return out


def stage_sentences(summary: dict[str, Any]) -> list[str]:
    """ "14 leads would become MQL", from a preview's ``stage_changes`` ({"lead→mql": 14})."""
    out = []
    by_after: Counter[tuple[str, str]] = Counter()
    for key, count in (summary.get("stage_changes") or {}).items():
        before, _, after = key.partition("→")
        by_after[before, after] += int(count)
    for (before, after), count in sorted(by_after.items(), key=lambda item: -item[1]):
        who = "lead" if before == Lead.Stage.LEAD else f"{stage_label(before).lower()} lead"
        out.append(f"{count} {who}{'s' if count != 1 else ''} would become {stage_label(after)}")
    return out


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin[RuleSet]):
    form = RuleSetForm
    inlines = [RuleInline]
    list_display = ["version_shown", "status_shown", "note", "rules_count", "mql_rule", "created", "applied"]
    list_display_links = ["version_shown"]
    list_filter = ["status"]
    fieldsets = [
        (None, {"fields": ["note"]}),
        (
            "When a lead becomes an MQL",
            {
                "fields": ["mql_engagement", "mql_fit_grades"],
                "description": "Engagement at or above the threshold with one of these fit grades makes an MQL; "
                "a hand-raise always does.",
            },
        ),
        ("Decay", {"fields": ["intent_half_life_days", "activity_half_life_days"]}),
        ("Derived signals", {"fields": ["feature_depth_min", "session_gap_minutes", "quick_abandonment_minutes"]}),
    ]
    change_form_template = "admin/analytics/ruleset/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[RuleSet]:
        return (
            super().get_queryset(request).select_related("created_by", "applied_by").annotate(rule_count=Count("rules"))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a version starts from another ("New version from this"), never from nothing

    def has_change_permission(self, request: HttpRequest, obj: RuleSet | None = None) -> bool:
        if obj is not None and obj.status != RuleSet.Status.DRAFT:
            return False  # an applied version is history: leads were scored by it
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: RuleSet | None = None) -> bool:
        if obj is not None and obj.status != RuleSet.Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="version", ordering="version")
    def version_shown(self, rule_set: RuleSet) -> str:
        return f"v{rule_set.version}"

    @admin.display(description="status", ordering="status")
    def status_shown(self, rule_set: RuleSet) -> SafeString:
        label = capfirst(rule_set.get_status_display())
        return format_html('<span class="rule-status rule-status-{}">{}</span>', rule_set.status, label)

    @admin.display(description="rules", ordering="rule_count")
    def rules_count(self, rule_set: RuleSet) -> int:
        return int(getattr(rule_set, "rule_count", 0))

    @admin.display(description="MQL at")
    def mql_rule(self, rule_set: RuleSet) -> str:
        return f"engagement ≥ {rule_set.mql_engagement}, fit {'/'.join(rule_set.mql_fit_grades) or '—'}"

    @admin.display(description="created", ordering="created_at")
    def created(self, rule_set: RuleSet) -> str:
        who = rule_set.created_by.email if rule_set.created_by else "the system"
        return f"{rule_set.created_at:%-d %b %Y} by {who}"

    @admin.display(description="applied", ordering="applied_at")
    def applied(self, rule_set: RuleSet) -> str:
        if rule_set.applied_at is None:
            return "—" if rule_set.status == RuleSet.Status.DRAFT else "from the start"
        who = rule_set.applied_by.email if rule_set.applied_by else "the system"
        return f"{rule_set.applied_at:%-d %b %Y %H:%M} by {who}"

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), **WIDE_PAGE, "title": "Scoring rule sets"})

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return super().changeform_view(request, object_id, form_url, {**(extra_context or {}), **WIDE_PAGE})

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: RuleSet | None = None,
    ) -> HttpResponse:
        if obj is not None:
            active = RuleSet.objects.filter(status=RuleSet.Status.ACTIVE).exclude(pk=obj.pk).first()
            context.update(
                {
                    "is_draft": obj.status == RuleSet.Status.DRAFT,
                    "may_add_version": may_add_version(request),
                    "may_preview": may_start_jobs(request) and obj.status == RuleSet.Status.DRAFT,
                    "may_apply": may_apply(request) and obj.status == RuleSet.Status.DRAFT,
                    "jobs": list(obj.jobs.select_related("requested_by")[:20]),
                    "active": active,
                    "changes": changes_between(active, obj) if obj.status == RuleSet.Status.DRAFT else [],
                }
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/new-version/", view(self.new_version_view), name="analytics_ruleset_new_version"),
            path("<int:object_id>/preview/", view(self.preview_view), name="analytics_ruleset_preview"),
            path("<int:object_id>/apply/", view(self.apply_view), name="analytics_ruleset_apply"),
            path("<int:object_id>/jobs/<int:job_id>/", view(self.job_view), name="analytics_ruleset_job"),
            *super().get_urls(),
        ]

    def rule_set_or_404(self, request: HttpRequest, object_id: int) -> RuleSet:
        rule_set = self.get_object(request, str(object_id))
        if rule_set is None:
            raise Http404("No rule set with this id.")
        if not self.has_view_or_change_permission(request, rule_set):
            raise PermissionDenied
        return rule_set

    def new_version_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """A draft copy of this version, to edit: the page of the new draft."""
        source = self.rule_set_or_404(request, object_id)
        if not may_add_version(request):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:analytics_ruleset_change", source.pk)
        assert isinstance(request.user, User)
        draft = rule_set_new_version(source=source, actor=request.user)
        made = f"Draft v{draft.version} made from v{source.version}: edit it, preview it, apply it."
        self.message_user(request, made, messages.SUCCESS)
        return redirect("admin:analytics_ruleset_change", draft.pk)

    def start(self, request: HttpRequest, rule_set: RuleSet, mode: str) -> HttpResponse:
        assert isinstance(request.user, User)
        try:
            job = rescore_start(rule_set=rule_set, mode=mode, actor=request.user)
        except DomainError as error:
            self.message_user(request, error.detail, messages.ERROR)
            return redirect("admin:analytics_ruleset_change", rule_set.pk)
        return redirect("admin:analytics_ruleset_job", rule_set.pk, job.pk)

    def preview_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Score every lead under this draft without writing anything: what would change, on the job page."""
        rule_set = self.rule_set_or_404(request, object_id)
        if not may_start_jobs(request):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:analytics_ruleset_change", rule_set.pk)
        return self.start(request, rule_set, RescoreJob.Mode.PREVIEW)

    def apply_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Asks first (what changes from the version in use, the last preview), then applies this draft: it
        becomes the version in use and every lead is scored again by the worker."""
        rule_set = self.rule_set_or_404(request, object_id)
        if not may_apply(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("confirmed") == "yes":
            return self.start(request, rule_set, RescoreJob.Mode.APPLY)
        if rule_set.status != RuleSet.Status.DRAFT:
            self.message_user(
                request, f"Version {rule_set.version} is not a draft: it cannot be applied.", messages.ERROR
            )
            return redirect("admin:analytics_ruleset_change", rule_set.pk)
        active = RuleSet.objects.filter(status=RuleSet.Status.ACTIVE).first()
        preview = rule_set.jobs.filter(mode=RescoreJob.Mode.PREVIEW, status=RescoreJob.Status.DONE).first()
        context = {
            **self.admin_site.each_context(request),
            **WIDE_PAGE,
            "opts": self.opts,
            "title": f"Apply scoring rules v{rule_set.version}?",
            "subtitle": None,
            "original": rule_set,
            "has_view_permission": True,
            "active": active,
            "changes": changes_between(active, rule_set),
            "preview": preview,
            "sentences": stage_sentences(preview.summary) if preview else [],
            "leads": Lead.objects.count(),
        }
        return TemplateResponse(request, "admin/analytics/ruleset/confirm_apply.html", context)

    def job_view(self, request: HttpRequest, object_id: int, job_id: int) -> HttpResponse:
        """A preview's or application's progress (the page reloads itself until it is done), and for a
        preview what would change: stage moves, then each lead's old and new score, grade and stage."""
        rule_set = self.rule_set_or_404(request, object_id)
        job = RescoreJob.objects.select_related("requested_by").filter(pk=job_id, rule_set=rule_set).first()
        if job is None:
            raise Http404("No such job for this rule set.")
        summary = job.summary or {}
        changed = list(summary.get("leads") or [])
        for row in changed:
            row["old_stage_label"] = stage_label(row.get("old_stage", ""))
            row["new_stage_label"] = stage_label(row.get("new_stage", ""))
            row["delta"] = int(row.get("new_total", 0)) - int(row.get("old_total", 0))
        context = {
            **self.admin_site.each_context(request),
            **WIDE_PAGE,
            "opts": self.opts,
            "title": f"{job.get_mode_display().capitalize()} of scoring rules v{rule_set.version}",
            "subtitle": None,
            "original": rule_set,
            "has_view_permission": True,
            "job": job,
            "running": job.status in (RescoreJob.Status.QUEUED, RescoreJob.Status.RUNNING),
            "sentences": stage_sentences(summary),
            "changed": changed,
            "leads_changed": int(summary.get("leads_changed") or 0),
            "may_apply": may_apply(request) and rule_set.status == RuleSet.Status.DRAFT,
        }
        return TemplateResponse(request, "admin/analytics/ruleset/job.html", context)
