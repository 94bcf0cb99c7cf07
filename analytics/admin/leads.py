"""Leads in the sales admin: the list by score, the lead page (why it scores what it does, what the prospect
did, who else of the account is in), sales' stage actions and the accounts (buying committees).

Every change goes through ``analytics.services.leads``: the stage actions call ``lead_stage_set`` (its
refusals show as form errors), "Rescore now" calls ``lead_refresh``. Sales (change permission) move
stages; Marketing (view permission) read.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import conditional_escape, format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from analytics.admin.display import (
    WIDE_PAGE,
    ago,
    grade_badge,
    industry_names,
    product_names,
    roles_text,
    score_text,
    stage_label,
    stage_pill,
)
from analytics.admin.lead_page import lead_page
from analytics.forms import STAGE_FORMS, StageForm
from analytics.models import Lead
from analytics.selectors.leads import account_stage, accounts, leads_scored, roles_covered
from analytics.services.leads import STAGE_ACTIONS, lead_refresh, lead_stage_set
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from demoportal.core.webforms import bound_data, domain_error_show

LEAD_ORDERING = ["-total_score", "-pk"]  # best first; total_score is leads_scored()'s annotation
ACTION_SHOWN = 70  # characters of the recommended action in the list; the whole text on hover
ACCOUNTS_PER_PAGE = 50


class FitGradeFilter(admin.SimpleListFilter):
    title = "fit grade"
    parameter_name = "fit_grade"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(grade, grade) for grade in "ABCD"]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        return queryset.filter(fit_grade=self.value()) if self.value() else queryset


class ProductFilter(admin.SimpleListFilter):
    title = "product demoed"
    parameter_name = "product"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(product_names().items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        return queryset.filter(products__contains=[self.value()]) if self.value() else queryset


class IndustryFilter(admin.SimpleListFilter):
    title = "industry"
    parameter_name = "industry"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(industry_names().items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        return queryset.filter(industries__contains=[self.value()]) if self.value() else queryset


class AccountFilter(admin.SimpleListFilter):
    title = "e-mail"
    parameter_name = "account"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("business", "business domain"), ("free-mail", "free-mail")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        if self.value() == "business":
            return queryset.exclude(account_domain="")
        if self.value() == "free-mail":
            return queryset.filter(account_domain="")
        return queryset


@admin.action(description="Rescore now", permissions=["change"])
def rescore(modeladmin: admin.ModelAdmin[Lead], request: HttpRequest, queryset: QuerySet[Lead]) -> None:
    """Score the selected leads again from all their events under the rule set in use."""
    done = skipped = 0
    for lead in queryset.select_related("user"):
        if lead_refresh(user=lead.user) is None:
            skipped += 1
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"Rescored {done} lead{'s' if done != 1 else ''}.", messages.SUCCESS)
    if skipped:
        modeladmin.message_user(
            request, f"{skipped} not rescored: no longer leads (contact consent withdrawn, or staff).", messages.WARNING
        )


class LeadChangeList(ChangeList):
    """Marks the default order (total score, best first) on its column. The admin reads the default from
    ``ModelAdmin.ordering``, which may only name model fields (system check admin.E033), not an annotation."""

    def _get_default_ordering(self) -> list[str]:
        return list(LEAD_ORDERING)


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin[Lead]):
    list_display = [
        "lead",
        "fit",
        "engagement",
        "total",
        "stage_shown",
        "products_shown",
        "last_activity",
        "next_action",
    ]
    list_filter = ["stage", FitGradeFilter, ProductFilter, IndustryFilter, AccountFilter]
    search_fields = ["user__email", "user__company", "account_domain"]
    actions = [rescore]
    # The dashboards' links open this list on the leads behind a figure (analytics/admin/dashboards.py, leads_list).
    DASHBOARD_LOOKUPS = frozenset({
        "created_at__gte", "created_at__lt", "products__0", "industries__0", "user__role", "source",
        "user__partner__id__exact", "mql_at__isnull", "sql_at__isnull", "account_domain",
    })  # fmt: skip

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        return lookup in self.DASHBOARD_LOOKUPS or super().lookup_allowed(lookup, value, request)

    list_per_page = 50
    show_full_result_count = False  # no second COUNT(*) over every lead on each page

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        """Every lead with ``engagement_score`` and ``total_score`` decayed to now, so both sort and filter."""
        return leads_scored()

    def get_ordering(self, request: HttpRequest) -> list[str]:
        return list(LEAD_ORDERING)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return LeadChangeList

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a prospect becomes a lead by consenting and doing something, never by hand

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the user's deletion removes their lead; disqualify says "not a prospect"

    # THE LIST

    @admin.display(description="lead", ordering="user__email")
    def lead(self, lead: Lead) -> SafeString:
        """The person's name (when they gave one), their address, then company and role."""
        company = lead.user.company or lead.account_domain or "free-mail"
        role = f" · {lead.user.role}" if lead.user.role else ""
        local, _, domain = lead.user.email.rpartition("@")
        # A long address breaks after the @ when the column is narrow, never at a hyphen.
        address = format_html(
            '<span class="lead-nowrap">{}@</span><wbr><span class="lead-nowrap">{}</span>', local, domain
        )
        name = lead.user.get_full_name()
        if name:
            address = format_html('<strong>{}</strong><span class="lead-sub">{}</span>', name, address)
        return format_html('{}<span class="lead-sub">{}{}</span>', address, company, role)

    @admin.display(description="fit", ordering="fit_score")
    def fit(self, lead: Lead) -> SafeString:
        return grade_badge(lead.fit_grade, lead.fit_score)

    @admin.display(description="engagement", ordering="engagement_score")
    def engagement(self, lead: Lead) -> str:
        return score_text(getattr(lead, "engagement_score", None))

    @admin.display(description="total", ordering="total_score")
    def total(self, lead: Lead) -> SafeString:
        return format_html("<strong>{}</strong>", score_text(getattr(lead, "total_score", None)))

    @admin.display(description="stage", ordering="stage")
    def stage_shown(self, lead: Lead) -> SafeString:
        return stage_pill(lead.stage)

    @admin.display(description="products")
    def products_shown(self, lead: Lead) -> SafeString | str:
        if not lead.products:
            return "—"
        names = product_names()
        # <wbr>: ThermalCommand may break as Thermal|Command in a narrow column.
        words = [re.split(r"(?<=[a-z])(?=[A-Z])", names.get(key, key)) for key in lead.products]
        return mark_safe(", ".join("<wbr>".join(conditional_escape(part) for part in parts) for parts in words))  # noqa: S308  # each part escaped

    @admin.display(description="last activity", ordering="last_activity_at")
    def last_activity(self, lead: Lead) -> SafeString | str:
        return ago(lead.last_activity_at)

    @admin.display(description="next action")
    def next_action(self, lead: Lead) -> SafeString:
        text = lead.recommended_action or "—"
        return format_html('<span title="{}">{}</span>', text, Truncator(text).chars(ACTION_SHOWN))

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        domain = request.GET.get("account_domain", "")
        context = {
            **(extra_context or {}),
            **WIDE_PAGE,
            "title": "Leads",
            "account_domain": domain,
            "accounts_url": reverse("admin:analytics_lead_accounts"),
        }
        if domain:
            without = request.GET.copy()
            without.pop("account_domain", None)
            context["account_clear_url"] = f"?{without.urlencode()}" if without else "?"
        return super().changelist_view(request, context)

    # THE LEAD PAGE

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("accounts/", view(self.accounts_view), name="analytics_lead_accounts"),
            path("<int:object_id>/stage/<str:action>/", view(self.stage_view), name="analytics_lead_stage"),
            path("<int:object_id>/rescore/", view(self.rescore_view), name="analytics_lead_rescore"),
            *super().get_urls(),
        ]

    def lead_or_404(self, request: HttpRequest, object_id: str | int) -> Lead:
        lead = self.get_object(request, str(object_id))
        if lead is None:
            raise Http404("No lead with this id.")
        if not self.has_view_or_change_permission(request, lead):
            raise PermissionDenied
        return lead

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The lead page. It is read-only: its changes are the stage actions and "Rescore now", each a
        form posting to its own address; a POST here (the admin's "Save") changes nothing and is refused."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET"])
        return self.lead_response(request, self.lead_or_404(request, object_id))

    def stage_forms(self, request: HttpRequest, lead: Lead, bound: StageForm | None = None) -> list[StageForm]:
        """The stage actions allowed from the lead's stage, for someone who may change leads."""
        if not self.has_change_permission(request, lead):
            return []
        out = []
        for action, (_after, allowed) in STAGE_ACTIONS.items():
            if bound is not None and bound.action == action:
                out.append(bound)
            elif lead.stage in allowed:
                out.append(STAGE_FORMS[action]())
        return out

    def lead_response(self, request: HttpRequest, lead: Lead, bound: StageForm | None = None) -> TemplateResponse:
        may_change = self.has_change_permission(request, lead)
        context = {
            **self.admin_site.each_context(request),
            **WIDE_PAGE,
            "opts": self.opts,
            "title": lead.user.display_name,
            "subtitle": None,
            "original": lead,
            "page": lead_page(lead),
            "stage_forms": self.stage_forms(request, lead, bound),
            "may_change": may_change,
            "has_view_permission": True,
            "may_see_sandboxes": request.user.has_perm("sandboxes.view_sandbox"),
            "stage_label": stage_label(lead.stage),
        }
        return TemplateResponse(
            request, "admin/analytics/lead/lead_page.html", context, status=400 if bound is not None else 200
        )

    def stage_view(self, request: HttpRequest, object_id: int, action: str) -> HttpResponse:
        """One of sales' stage actions, posted from the lead page: done and back to the page, or the page
        again with the service's reasons beside the fields (400); the lead is unchanged then."""
        lead = self.lead_or_404(request, object_id)
        if action not in STAGE_FORMS:
            raise Http404("No such stage action.")
        if not self.has_change_permission(request, lead):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:analytics_lead_change", lead.pk)
        assert isinstance(request.user, User)
        form = STAGE_FORMS[action](bound_data(request))
        if form.is_valid():
            try:
                changed = lead_stage_set(lead=lead, action=action, actor=request.user, **form.service_arguments())
            except DomainError as error:
                domain_error_show(form, error, fields={"opportunity_value": "value"})
            else:
                self.message_user(
                    request, f"{lead.user.display_name} is now {stage_label(changed.stage)}.", messages.SUCCESS
                )
                return redirect("admin:analytics_lead_change", lead.pk)
        return self.lead_response(request, lead, bound=form)

    def rescore_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        lead = self.lead_or_404(request, object_id)
        if not self.has_change_permission(request, lead):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:analytics_lead_change", lead.pk)
        if lead_refresh(user=lead.user) is None:
            self.message_user(
                request, "Not rescored: no longer a lead (contact consent withdrawn, or staff).", messages.WARNING
            )
        else:
            self.message_user(request, "Rescored from all their events under the rules in use.", messages.SUCCESS)
        return redirect("admin:analytics_lead_change", lead.pk)

    # ACCOUNTS

    def accounts_view(self, request: HttpRequest) -> HttpResponse:
        """Buying committees: leads rolled up by their company's e-mail domain, most engaged first."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        query = request.GET.get("q", "").strip()
        rows = accounts()
        if query:
            rows = rows.filter(Q(account_domain__icontains=query))
        page = Paginator(rows, ACCOUNTS_PER_PAGE).get_page(request.GET.get("p"))
        leads_url = reverse("admin:analytics_lead_changelist")
        shown = [
            {
                **row,
                "leads_url": f"{leads_url}?{urlencode({'account_domain': row['account_domain']})}",
                "roles": roles_text(roles_covered(row)),
                "roles_count": len(roles_covered(row)),
                "stage": account_stage(row),
                "stage_pill": stage_pill(account_stage(row)),
                "last_activity": ago(row["last_activity_at"]),
            }
            for row in page.object_list
        ]
        context = {
            **self.admin_site.each_context(request),
            **WIDE_PAGE,
            "opts": self.opts,
            "title": "Accounts",
            "subtitle": None,
            "has_view_permission": True,
            "rows": shown,
            "page_obj": page,
            "query": query,
            "page_range": list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)),
        }
        return TemplateResponse(request, "admin/analytics/lead/accounts.html", context)
