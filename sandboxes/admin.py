from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name

from sandboxes.models import Domain, Sandbox


class DomainInline(admin.TabularInline[Domain, Sandbox]):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]
    readonly_fields = ["domain", "is_primary"]
    can_delete = False


@admin.register(Sandbox)
class SandboxAdmin(admin.ModelAdmin[Sandbox]):
    list_display = ["name", "slug", "schema_name", "created_at"]
    search_fields = ["name", "slug", "domains__domain"]
    readonly_fields = ["schema_name", "slug", "created_at"]
    inlines = [DomainInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sandbox]:
        # The public tenant is the portal itself, not a sandbox anyone should edit.
        return super().get_queryset(request).exclude(schema_name=get_public_schema_name())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sandboxes are created by the provisioning service, never by hand
