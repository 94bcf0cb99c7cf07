from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from sandboxes.models import Domain, Sandbox


class DomainInline(admin.TabularInline[Domain, Sandbox]):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]
    readonly_fields = ["domain", "is_primary"]
    can_delete = False


@admin.register(Sandbox)
class SandboxAdmin(admin.ModelAdmin[Sandbox]):
    list_display = ["name", "slug", "industry", "status", "owner", "created_at", "expires_at"]
    list_filter = ["status", "industry", "product"]
    search_fields = ["name", "slug", "domains__domain"]
    readonly_fields = [
        "schema_name",
        "slug",
        "kind",
        "status",
        "created_at",
        "ready_at",
        "provisioning_ms",
        "extensions",
    ]
    inlines = [DomainInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sandbox]:
        # The portal's own row and the scenario templates are machinery, not sandboxes to manage.
        return super().get_queryset(request).filter(kind=Sandbox.Kind.DEMO)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sandboxes are created by the provisioning service, never by hand
