from django.urls import path

from analytics.apis import events, leads, stats

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
]
