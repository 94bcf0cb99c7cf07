from django.urls import path

from analytics.apis import dashboards, events, leads, stats

# Both hosts: what a prospect's page sends (a sandbox's host calls it same-origin).
urlpatterns = [
    path("events", events.EventCreateApi.as_view(), name="events"),
]

# The portal host only (demoportal/urls.py): staff's reads, which no sandbox host serves.
portal_urlpatterns = [
    path("stats", stats.StatsApi.as_view(), name="sandbox-stats"),  # sandbox totals
    path("leads", leads.LeadListApi.as_view(), name="leads"),
    path("leads/<int:lead_id>", leads.LeadDetailApi.as_view(), name="lead"),
    path("accounts", leads.AccountListApi.as_view(), name="accounts"),
    path("accounts/<str:account_domain>", leads.AccountDetailApi.as_view(), name="account"),
    path("dashboards/demo-performance", dashboards.DemoPerformanceApi.as_view(), name="dashboard-demo-performance"),
    path("dashboards/lead-quality", dashboards.LeadQualityApi.as_view(), name="dashboard-lead-quality"),
    path(
        "dashboards/product-engagement",
        dashboards.ProductEngagementApi.as_view(),
        name="dashboard-product-engagement",
    ),
    path("dashboards/targets", dashboards.TargetsApi.as_view(), name="dashboard-targets"),
]
