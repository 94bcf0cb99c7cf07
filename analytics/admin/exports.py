"""Every dashboard table as CSV or XLSX, streamed row by row as the database cursor yields them: the first bytes
leave at once and the web process's memory stays flat whatever the length (docs/dashboards.md, "Exports").

The XLSX is the smallest workbook Excel, LibreOffice and openpyxl open: one sheet of inline strings and
numbers, zipped as it is written (stream-zip)."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any
from xml.sax.saxutils import escape

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from django.utils import timezone
from stream_zip import ZIP_32, ZIP_64, stream_zip

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Echo:
    """A file whose ``write`` returns what it was given: csv.writer then yields each line."""

    def write(self, value: str) -> str:
        return value


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(header)  # the BOM: Excel reads the file as UTF-8
    for row in rows:
        yield writer.writerow([cell_text(value) for value in row])


STREAM_CHUNK = 200  # pieces (CSV lines, parts of the zip) handed to the server at a time, at most
STREAM_BYTES = 64 * 1024  # or fewer, once they add up to this


async def chunks_of(content: Iterator[Any]) -> AsyncIterator[Any]:
    """``content`` as an async iterator, a few hundred lines or 64 KiB at a time. Under ASGI Django reads a
    synchronous iterator to its end before it sends a byte (``sync_to_async(list)``); this sends as the rows come.
    The pieces are pulled on the request's thread (``thread_sensitive``), where the database cursor lives."""

    def take() -> list[Any]:
        pieces, size = [], 0
        for piece in islice(content, STREAM_CHUNK):
            pieces.append(piece)
            size += len(piece)
            if size >= STREAM_BYTES:
                break
        return pieces

    pull = sync_to_async(take, thread_sensitive=True)
    while pieces := await pull():
        for piece in pieces:
            yield piece


def download(content: Iterator[Any], *, filename: str, content_type: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks_of(content), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    return download(csv_lines(header, rows), filename=filename, content_type="text/csv; charset=utf-8")


# XLSX

XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml"'
        ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml"'
        ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1"'
        ' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
        ' Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1"'
        ' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
        ' Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)


def xlsx_cell(value: Any) -> str:
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f"<c><v>{value}</v></c>"
    text = escape(cell_text(value))
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>' if text else "<c/>"


def xlsx_row(values: Sequence[Any]) -> str:
    return "<row>" + "".join(xlsx_cell(value) for value in values) + "</row>"


def sheet_xml(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    yield (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )
    chunk = [xlsx_row(header)]
    for values in rows:
        chunk.append(xlsx_row(values))
        if len(chunk) >= 500:
            yield "".join(chunk).encode()
            chunk = []
    yield ("".join(chunk) + "</sheetData></worksheet>").encode()


def xlsx_response(
    filename: str, sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    modified = timezone.now()

    def members() -> Iterator[tuple[str, datetime, int, Any, Iterable[bytes]]]:
        for name, xml in XLSX_PARTS.items():
            yield name, modified, 0o600, ZIP_32, (xml.encode(),)
        yield "xl/workbook.xml", modified, 0o600, ZIP_32, (WORKBOOK.format(name=escape(sheet[:31])).encode(),)
        yield "xl/worksheets/sheet1.xml", modified, 0o600, ZIP_64, sheet_xml(header, rows)

    return download(iter(stream_zip(members())), filename=filename, content_type=XLSX_TYPE)
