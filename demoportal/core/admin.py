from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from demoportal.core import catalogue
from demoportal.core.admin_filters import role_choices
from demoportal.core.models import Partner, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    """Everyone who signs in. A prospect's profile reads as they gave it, their role by the catalogue's name."""

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "company", "partner", "is_staff", "date_joined"]
    list_filter = ["partner", "is_staff", "is_superuser", "is_active", "groups"]
    list_select_related = ["partner"]
    search_fields = ["email", "first_name", "last_name", "company"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Prospect profile",
            {
                "fields": (
                    *("company", "job_title", "role", "phone", "country", "personal_email"),
                    *("contact_consent_at", "contact_consent_version"),
                )
            },
        ),
        ("Partner", {"fields": ("partner",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ["role_name"]

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        """For whoever may only view a user, the role's name in place of its key."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets

        def named(field: Any) -> Any:
            return "role_name" if field == "role" else field

        return [(name, {**options, "fields": tuple(map(named, options["fields"]))}) for name, options in fieldsets]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "role":  # a catalogue key, chosen by its name
            choices = [("", "—"), *role_choices()]
            return forms.ChoiceField(choices=choices, required=False, label="Role", help_text=db_field.help_text)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="role")
    def role_name(self, user: User) -> str:
        return catalogue.role_name(user.role)


class MemberInline(admin.TabularInline[User, Partner]):
    """The partner's users; who belongs is set on the user (enrolment by domain, or by staff)."""

    model = User
    fk_name = "partner"
    extra = 0
    fields = ["email", "company", "job_title", "date_joined", "last_login"]
    readonly_fields = ["email", "company", "job_title", "date_joined", "last_login"]
    can_delete = False
    show_change_link = True
    verbose_name = "member"
    verbose_name_plural = "members"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin[Partner]):
    list_display = ["name", "slug", "domains", "is_active", "member_count", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug", "members__email"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]
    fields = ["name", "slug", "email_domains", "is_active", "created_at"]
    inlines = [MemberInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Partner]:
        return super().get_queryset(request).annotate(member_count=Count("members"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Partner], search_term: str
    ) -> tuple[QuerySet[Partner], bool]:
        """Also finds a partner by one of its e-mail domains (exact, any case)."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().lower().removeprefix("@")
        if term:
            found |= queryset.filter(email_domains__contains=[term])
        return found, True if term else may_have_duplicates

    @admin.display(description="e-mail domains")
    def domains(self, partner: Partner) -> str:
        return ", ".join(partner.email_domains)

    @admin.display(description="members", ordering="member_count")
    def member_count(self, partner: Partner) -> int:
        return int(getattr(partner, "member_count", 0))
