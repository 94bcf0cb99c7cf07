"""PDF documents drawn with reportlab: a sandbox's findings report and the product sheets.

Pure rendering: data in, bytes out; no database access. The services decide what goes in.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from crm.selectors import SAVINGS_UNIT, SandboxFindings
from demoportal.core.formats import moment_text

BRAND = colors.HexColor("#b4410f")
INK = colors.HexColor("#17202b")
INK_SOFT = colors.HexColor("#4a5566")
LINE = colors.HexColor("#dde2ea")
VENDOR = "Process Heat Demo Portal"


def _styles() -> dict[str, ParagraphStyle]:
    sheet = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=sheet["Title"], alignment=0, textColor=INK, fontSize=22, leading=26),
        "eyebrow": ParagraphStyle("eyebrow", parent=sheet["Normal"], textColor=BRAND, fontName="Helvetica-Bold"),
        "h2": ParagraphStyle("h2", parent=sheet["Heading2"], textColor=INK, spaceBefore=10),
        "h3": ParagraphStyle("h3", parent=sheet["Heading3"], textColor=INK, spaceBefore=6, spaceAfter=2),
        "body": ParagraphStyle("body", parent=sheet["BodyText"], textColor=INK, leading=14),
        "soft": ParagraphStyle("soft", parent=sheet["BodyText"], textColor=INK_SOFT, fontSize=9, leading=12),
        "big": ParagraphStyle("big", parent=sheet["BodyText"], textColor=BRAND, fontSize=18, leading=22),
    }


def value_format(value: float, unit: str) -> str:
    """1200000, "USD/year" → "$1,200,000 a year"; 93.2, "% of permit" → "93.2 % of permit"."""
    if unit.startswith("USD"):
        amount = f"${value:,.0f}"
        return f"{amount} a year" if unit == SAVINGS_UNIT else amount
    number = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{number} {unit}"


def _document(title: str, author: str) -> tuple[io.BytesIO, SimpleDocTemplate]:
    buffer = io.BytesIO()
    # invariant: no creation time or random id inside, so the same input gives the same bytes.
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=author,
        invariant=1,
    )
    return buffer, document


def _table(rows: Sequence[Sequence[Any]], widths: Sequence[float]) -> Table:
    table = Table(list(rows), colWidths=list(widths), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 1), (1, -1), "RIGHT"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def findings_report_pdf(findings: SandboxFindings) -> bytes:
    """A sandbox's own findings: its plant, the KPIs computed from its data and the savings opportunity."""
    styles = _styles()
    buffer, document = _document(f"{findings.plant_name}: findings", VENDOR)
    story: list[Any] = [
        Paragraph(escape(f"{findings.product_name or 'Demo'} · findings report"), styles["eyebrow"]),
        Paragraph(escape(findings.plant_name), styles["title"]),
        Paragraph(
            escape(
                f"Scenario: {findings.scenario_name} ({findings.industry}). Sandbox: {findings.sandbox_name}. "
                f"Computed {moment_text(findings.computed_at)} from the last 12 months of the plant's data."
            ),
            styles["body"],
        ),
    ]
    if findings.annual_savings_usd > 0:
        story += [
            Spacer(1, 4 * mm),
            Paragraph("Savings opportunity", styles["h2"]),
            Paragraph(escape(value_format(findings.annual_savings_usd, SAVINGS_UNIT)), styles["big"]),
        ]
    story.append(Paragraph("Findings", styles["h2"]))
    for finding in findings.stories:
        story += [
            Paragraph(escape(f"{finding.name}: {value_format(finding.value, finding.unit)}"), styles["h3"]),
            Paragraph(escape(finding.problem), styles["body"]),
            Paragraph(escape(finding.opportunity), styles["body"]),
        ]
    story.append(Paragraph("Key figures", styles["h2"]))
    rows = [["Figure", "Value"]] + [
        [kpi["name"], value_format(float(kpi["value"]), kpi["unit"])] for kpi in findings.kpis
    ]
    story.append(_table(rows, [110 * mm, 60 * mm]))
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            "Demo data is simulated from public engineering references (US DOE steam tips, 40 CFR 98, "
            "EPA Method 19); no real plant is connected. The figures are computed, not typed in.",
            styles["soft"],
        ),
    ]
    document.build(story)
    return buffer.getvalue()


def product_sheet_pdf(product: dict[str, Any], stories: Sequence[tuple[str, str]] = ()) -> bytes:
    """One product's sheet from the catalogue: summary, features, and the demo scenarios that show it
    (``stories``: (scenario name, story name) pairs)."""
    styles = _styles()
    buffer, document = _document(f"{product['name']}: product sheet", VENDOR)
    story: list[Any] = [
        Paragraph("Product sheet", styles["eyebrow"]),
        Paragraph(escape(product["name"]), styles["title"]),
        Paragraph(escape(product["summary"]), styles["body"]),
        Paragraph("Features", styles["h2"]),
    ]
    for feature in product.get("features", []):
        story += [
            Paragraph(escape(feature["name"]), styles["h3"]),
            Paragraph(escape(feature["description"]), styles["body"]),
        ]
    if stories:
        story.append(Paragraph("See it in a demo sandbox", styles["h2"]))
        story += [Paragraph(escape(f"{scenario}: {name}"), styles["body"]) for scenario, name in stories]
    story += [Spacer(1, 6 * mm), Paragraph(escape(VENDOR), styles["soft"])]
    document.build(story)
    return buffer.getvalue()
