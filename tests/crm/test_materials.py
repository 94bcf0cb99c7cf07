"""Materials: the sandbox's own findings as a PDF drawn from its data, and one product sheet per product."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django_tenants.utils import schema_context
from pypdf import PdfReader

from analytics.models import Event
from crm.pdf import value_format
from demoportal.core import catalogue
from demoportal.core.models import User
from sandboxes.models import Sandbox
from simulation.models import Plant
from simulation.selectors.plant import plant_kpis


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    return " ".join(page.extract_text() for page in reader.pages)


def test_the_materials_page_offers_the_report_and_every_product_sheet(member: Client) -> None:
    page = member.get("/materials/")

    assert page.status_code == 200
    assert b'action="/materials/report.pdf"' in page.content
    for product in catalogue.products():
        assert f'href="/materials/{product["key"]}.pdf"'.encode() in page.content


def test_the_report_is_this_sandboxs_findings_as_a_pdf_and_is_recorded(
    member: Client, own_sandbox: Sandbox, prospect: User
) -> None:
    response = member.post("/materials/report.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="demo-refinery-complex-findings-')
    text = pdf_text(response.content)
    with schema_context(own_sandbox.schema_name):
        plant = Plant.objects.get()
        kpis = plant_kpis(plant)
    assert plant.name in text
    assert "Savings opportunity" in text
    assert "Excess air on the process heaters" in text
    for kpi in kpis:
        assert kpi["name"] in text
        assert value_format(float(kpi["value"]), kpi["unit"]) in text
    savings = next(kpi["value"] for kpi in kpis if kpi["unit"] == "USD/year")
    assert value_format(savings, "USD/year") in text
    event = Event.objects.get(name="report_generated")
    assert (event.user, event.sandbox) == (prospect, own_sandbox)
    assert event.properties["annual_savings_usd"] == round(savings)


def test_the_report_needs_a_post(member: Client) -> None:
    assert member.get("/materials/report.pdf").status_code == 405
    assert not Event.objects.filter(name="report_generated").exists()


def test_a_sandbox_without_a_plant_gets_a_message_not_a_report(member: Client, own_sandbox: Sandbox) -> None:
    with schema_context(own_sandbox.schema_name):
        Plant.objects.all().delete()  # as while a reset replaces the schema; the test's transaction restores it

    response = member.post("/materials/report.pdf", follow=True)

    assert response.redirect_chain == [("/materials/", 302)]
    assert b"no plant right now" in response.content
    assert not Event.objects.filter(name="report_generated").exists()


@pytest.mark.parametrize("product", [p["key"] for p in catalogue.products()])
def test_every_product_has_a_sheet_with_a_long_cache_header(member: Client, product: str) -> None:
    response = member.get(f"/materials/{product}.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "max-age=604800" in response["Cache-Control"]
    entry = next(p for p in catalogue.products() if p["key"] == product)
    text = pdf_text(response.content)
    assert entry["name"] in text
    assert entry["features"][0]["name"] in text


def test_an_unknown_product_sheet_is_404(member: Client) -> None:
    assert member.get("/materials/steamwizard.pdf").status_code == 404
