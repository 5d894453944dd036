"""Reports as spreadsheets: CSV that Excel opens correctly and never runs, and Excel workbooks with money
and time formats. The apps' reports build rows of Python values and hand them to these.

A row holds aware datetimes (written as their own zone's wall-clock time: Excel has no time zones),
Decimal yuan (a plain decimal in the CSV, a number with a money format in Excel), None (an empty cell),
numbers and text. A CSV starts with a UTF-8 byte-order mark, so Excel reads Chinese text as UTF-8, and is
produced line by line, so a large report can stream. A text cell that a spreadsheet would run as a formula
(starting with = + - @, a tab or a carriage return) is written with a leading apostrophe (CSV injection),
in the CSV and in Excel alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, overload

BOM = "\ufeff"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = '"¥"#,##0.00'
TIME_FORMAT = "yyyy-mm-dd hh:mm"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@overload
def yuan(fen: int) -> Decimal: ...


@overload
def yuan(fen: None) -> None: ...


@overload
def yuan(fen: int | None) -> Decimal | None: ...


def yuan(fen: int | None) -> Decimal | None:
    """Fen as a yuan amount with two places (None stays None: an empty cell)."""
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def cell_text(value: object) -> str:
    """A value as a CSV cell: times as "YYYY-MM-DD HH:MM:SS", yuan with two places, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Decimal):
        # A number, negative or not, is never read as a formula.
        return f"{value:.2f}"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Echo:
    """A file-like object that hands back what csv.writer writes, so each line can be yielded."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The CSV of `rows`, line by line, the byte-order mark first: stream it or join it."""
    writer = csv.writer(_Echo())
    prefix = BOM
    for row in rows:
        yield prefix + writer.writerow([cell_text(value) for value in row])
        prefix = ""
    if prefix:
        yield prefix


def xlsx_value(value: object) -> object:
    """A value as an Excel cell holds it: wall-clock times, yuan as numbers, text guarded like the CSV's."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    return cell_text(value)


def xlsx_table(
    sheet: Any,
    *,
    headers: Sequence[tuple[str, int]],
    rows: Iterable[Sequence[object]],
    time_columns: Sequence[int] = (),
    money_columns: Sequence[int] = (),
    title_rows: Sequence[Sequence[object]] = (),
) -> None:
    """Fill an openpyxl sheet: any title rows, the bold header (frozen, with its column widths), then the
    rows, with the time and money formats on those columns (indexes from 0)."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for title_row in title_rows:
        sheet.append([xlsx_value(value) for value in title_row])
    sheet.append([title for title, _width in headers])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = f"A{header_row + 1}"
    for index, (_title, width) in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in rows:
        sheet.append([xlsx_value(value) for value in row])
        number = sheet.max_row
        for index in time_columns:
            sheet.cell(row=number, column=index + 1).number_format = TIME_FORMAT
        for index in money_columns:
            sheet.cell(row=number, column=index + 1).number_format = MONEY_FORMAT


def xlsx_bytes(workbook: Any) -> bytes:
    """The workbook saved as the bytes of an .xlsx file."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
