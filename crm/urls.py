"""The calls to action on a sandbox's host (namespace ``crm``), included by ``demoportal/urls_sandbox.py``."""

from django.urls import path

from crm import views

app_name = "crm"

urlpatterns = [
    path("contact/pricing/", views.pricing_request, name="pricing"),
    path("contact/poc/", views.poc_request, name="poc"),
    path("contact/call/", views.sales_call, name="call"),
    path("materials/", views.materials, name="materials"),
    path("materials/report.pdf", views.report_download, name="report"),
    path("materials/<slug:product_key>.pdf", views.product_sheet, name="product-sheet"),
]
