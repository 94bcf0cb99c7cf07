"""The sales admin for what prospects asked for: pricing, POCs, calls; and the call slots sales offer."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from crm.models import CtaRequest, PocRequest, PricingRequest, SalesCallBooking, SalesCallSlot
from demoportal.core import catalogue
from demoportal.core.admin_filters import IndustryFilter, ProductFilter

REQUEST_LIST = ["created_at", "prospect", "company", "sandbox", "product_name", "industry_name", "handled"]
REQUEST_FILTERS: list[Any] = ["handled", ProductFilter, IndustryFilter, ("created_at", admin.DateFieldListFilter)]
REQUEST_SEARCH = ["user__email", "user__company", "user__first_name", "user__last_name", "sandbox__slug", "message"]
REQUEST_READONLY = ["user", "company", "user_email", "sandbox", "product_name", "industry_name", "created_at"]

RequestModel = TypeVar("RequestModel", bound=CtaRequest)


class CtaRequestAdmin(admin.ModelAdmin[RequestModel]):
    """Common to every request: who, from which sandbox, and a "handled" flag sales tick off. Whoever may only
    view them (Marketing) reads the same list and pages, with nothing to tick."""

    list_display = [*REQUEST_LIST]
    list_filter = REQUEST_FILTERS
    search_fields = REQUEST_SEARCH
    list_select_related = ["user", "sandbox"]
    list_editable = ["handled"]
    date_hierarchy = "created_at"
    readonly_fields = REQUEST_READONLY
    actions = ["mark_handled"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # requests come from prospects' sandboxes, never typed in

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # Django leaves a view-only user's list without its "handled" boxes and ignores a bulk save posted
        # anyway; refuse it instead, as the change page refuses a POST.
        if request.method == "POST" and "_save" in request.POST and not self.has_change_permission(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    @admin.display(description="prospect", ordering="user__last_name")
    def prospect(self, obj: CtaRequest) -> SafeString:
        """Their name, their address beneath (an account from before names were asked: the address alone)."""
        user = obj.user
        if not user.get_full_name():
            return format_html("{}", user.email)
        return format_html('{}<br><span class="quiet">{}</span>', user.display_name, user.email)

    @admin.display(description="company", ordering="user__company")
    def company(self, obj: CtaRequest) -> str:
        return obj.user.company

    @admin.display(description="product", ordering="product")
    def product_name(self, obj: CtaRequest) -> str:
        return catalogue.product_name(obj.product)

    @admin.display(description="industry", ordering="industry")
    def industry_name(self, obj: CtaRequest) -> str:
        return catalogue.industry_name(obj.industry)

    @admin.display(description="e-mail", ordering="user__email")
    def user_email(self, obj: CtaRequest) -> str:
        return obj.user.email

    @admin.action(description="Mark as handled", permissions=["change"])
    def mark_handled(self, request: HttpRequest, queryset: QuerySet[RequestModel]) -> None:
        count = queryset.update(handled=True)
        self.message_user(request, f"Marked {count} as handled.")


@admin.register(PricingRequest)
class PricingRequestAdmin(CtaRequestAdmin[PricingRequest]):
    list_display = [*REQUEST_LIST[:4], "company_size", "sites", "timeframe", *REQUEST_LIST[4:]]
    list_filter = [*REQUEST_FILTERS, "company_size", "timeframe"]
    fields = [*REQUEST_READONLY, "company_size", "sites", "timeframe", "message", "handled"]
    readonly_fields = [*REQUEST_READONLY, "company_size", "sites", "timeframe", "message"]


@admin.register(PocRequest)
class PocRequestAdmin(CtaRequestAdmin[PocRequest]):
    list_display = [*REQUEST_LIST[:4], "objective", "sites", "start_month", *REQUEST_LIST[4:]]
    list_filter = [*REQUEST_FILTERS, "objective"]
    fields = [*REQUEST_READONLY, "sites", "objective", "start_month", "message", "handled"]
    readonly_fields = [*REQUEST_READONLY, "sites", "objective", "start_month", "message"]


@admin.register(SalesCallBooking)
class SalesCallBookingAdmin(CtaRequestAdmin[SalesCallBooking]):
    list_display = [
        "slot_starts_at",
        "salesperson",
        *REQUEST_LIST[1:],
        "confirmation_sent_at",
    ]
    list_filter = [*REQUEST_FILTERS, ("slot__salesperson", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "sandbox", "slot__salesperson"]
    fields = [*REQUEST_READONLY, "slot", "message", "confirmation_sent_at", "handled"]
    readonly_fields = [*REQUEST_READONLY, "slot", "message", "confirmation_sent_at"]
    ordering = ["-slot__starts_at"]

    @admin.display(description="starts (UTC)", ordering="slot__starts_at")
    def slot_starts_at(self, booking: SalesCallBooking) -> str:
        return f"{booking.slot.starts_at:%Y-%m-%d %H:%M} UTC"

    @admin.display(description="salesperson", ordering="slot__salesperson__email")
    def salesperson(self, booking: SalesCallBooking) -> str:
        return booking.slot.salesperson.display_name

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)  # the prospect has the invitation; cancel by talking to them


class BookedFilter(admin.SimpleListFilter):
    title = "booked"
    parameter_name = "booked"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Booked"), ("no", "Free")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(booking__isnull=self.value() == "no")
        return queryset


@admin.register(SalesCallSlot)
class SalesCallSlotAdmin(admin.ModelAdmin[SalesCallSlot]):
    """Sales offer times here; prospects pick from the free future ones. All times are UTC."""

    list_display = ["starts_at", "duration_minutes", "salesperson", "booked_by", "meeting_link"]
    list_filter = [BookedFilter, ("salesperson", admin.RelatedOnlyFieldListFilter), "starts_at"]
    search_fields = ["salesperson__email", "booking__user__email", "booking__user__company"]
    list_select_related = ["salesperson", "booking__user"]
    date_hierarchy = "starts_at"
    fields = ["starts_at", "duration_minutes", "salesperson", "meeting_link", "booked_by"]
    readonly_fields = ["booked_by"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # a bare host is a https:// link

    @admin.display(description="booked by", ordering="booking__user__email")
    def booked_by(self, slot: SalesCallSlot) -> str:
        booking = getattr(slot, "booking", None)
        if booking is None:
            return "—"
        company = booking.user.company
        return f"{booking.user.display_name} ({company})" if company else booking.user.display_name

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {**super().get_changeform_initial_data(request), "salesperson": request.user.pk}

    def has_delete_permission(self, request: HttpRequest, obj: SalesCallSlot | None = None) -> bool:
        if obj is not None and hasattr(obj, "booking"):
            return False  # a booked slot stays; the booking holds it (PROTECT)
        return super().has_delete_permission(request, obj)


# The CRM sync log (crm/sync/admin.py).
from crm.sync import admin as sync_admin  # noqa: E402, F401
