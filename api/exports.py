"""Reports a user exports, rendered for document storage: an answer's table as CSV or XLSX, a dashboard tab as PDF."""

from __future__ import annotations

import csv
import io
from typing import Any


def _column_names(columns: list) -> list[str]:
    return [c.get("name") or c.get("label") or str(c) if isinstance(c, dict) else str(c) for c in columns]


def _cell(value: Any):
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


def _rows(columns: list[str], rows: list) -> list[list]:
    out = []
    for row in rows:
        if isinstance(row, dict):
            out.append([_cell(row.get(c)) for c in columns])
        else:
            out.append([_cell(v) for v in row])
    return out


def table_csv(columns: list, rows: list) -> bytes:
    names = _column_names(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(names)
    for row in _rows(names, rows):
        # a cell a spreadsheet would run as a formula is written as text (CSV injection)
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") and not _number(v) else v
                         for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM: spreadsheets read it as UTF-8


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def table_xlsx(columns: list, rows: list, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    names = _column_names(columns)
    book = Workbook()
    sheet = book.active
    sheet.title = "Answer"
    sheet.append(names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _rows(names, rows):
        sheet.append([("'" + v) if isinstance(v, str) and v.startswith("=") else v for v in row])
    sheet.freeze_panes = "A2"
    for i, name in enumerate(names, start=1):
        width = max([len(str(name))] + [len(str(r[i - 1])) for r in _rows(names, rows[:200]) if len(r) >= i])
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(60, width + 2)
    book.properties.title = title[:200]
    book.properties.creator = "Sales Command Center"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def dashboard_pdf(tab: str, figures: dict, scope_text: str, generated_at: str) -> bytes:
    """A dashboard tab's figures as a PDF: its headline numbers, then each of its tables (the first 60 rows)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from api.writepath import _escape

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=f"{tab.title()} — Sales Command Center",
                            leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm)
    story = [Paragraph(f"{_escape(tab.title())}", styles["Title"]),
             Paragraph(_escape(f"{scope_text} · generated {generated_at}"), styles["Normal"]), Spacer(1, 4 * mm)]
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f3a5f")),
                       ("TEXTCOLOR", (0, 0), (-1, 0), colors.white), ("VALIGN", (0, 0), (-1, -1), "TOP")])

    def text(value) -> Paragraph:
        if isinstance(value, float):
            value = f"{value:,.2f}"
        return Paragraph(_escape("—" if value is None else str(value))[:300], small)

    def section(name: str, value, depth: int) -> None:
        scalars = {k: v for k, v in value.items() if not isinstance(v, (dict, list))} if isinstance(value, dict) else {}
        if name:
            story.append(Paragraph(_escape(name.replace("_", " ").capitalize()), styles["Heading3" if depth else "Heading2"]))
        if scalars:
            table = Table([[text("figure"), text("value")]] + [[text(k.replace("_", " ")), text(v)]
                                                               for k, v in scalars.items()], colWidths=[80 * mm, 80 * mm])
            table.setStyle(grid)
            story.extend([table, Spacer(1, 3 * mm)])
        if isinstance(value, dict):
            for key, child in value.items():
                if isinstance(child, (dict, list)) and depth < 3:
                    section(key, child, depth + 1)
        elif isinstance(value, list) and value:
            if all(isinstance(r, dict) for r in value):
                columns = list(dict.fromkeys(k for r in value[:60] for k, v in r.items()
                                             if not isinstance(v, (dict, list))))[:10]
                if columns:
                    rows = [[text(c.replace("_", " ")) for c in columns]]
                    rows += [[text(r.get(c)) for c in columns] for r in value[:60]]
                    table = Table(rows, repeatRows=1)
                    table.setStyle(grid)
                    story.extend([table, Spacer(1, 3 * mm)])
            elif all(not isinstance(v, (dict, list)) for v in value):
                story.append(Paragraph(_escape(", ".join(str(v) for v in value[:60])), small))

    section("", figures, 0)
    doc.build(story)
    return buffer.getvalue()
