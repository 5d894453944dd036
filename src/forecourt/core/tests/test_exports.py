"""Spreadsheet exports: a CSV Excel reads as UTF-8 and never runs, an Excel sheet with typed cells."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

from openpyxl import Workbook, load_workbook

from forecourt.core.clock import SHANGHAI
from forecourt.core.exports import (
    BOM,
    MONEY_FORMAT,
    TIME_FORMAT,
    cell_text,
    csv_lines,
    xlsx_bytes,
    xlsx_table,
    yuan,
)

NOON = datetime(2026, 11, 23, 12, 30, tzinfo=SHANGHAI)


def test_yuan_has_two_places_and_keeps_none() -> None:
    assert (yuan(123_45), yuan(-5), yuan(0), yuan(None)) == (
        Decimal("123.45"),
        Decimal("-0.05"),
        Decimal("0.00"),
        None,
    )


def test_a_cell_a_spreadsheet_would_run_is_written_as_text() -> None:
    assert [cell_text(value) for value in ("=1+1", "+86", "-x", "@SUM(A1)", "\tx", "\rx", "王芳")] == [
        "'=1+1",
        "'+86",
        "'-x",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "王芳",
    ]
    # A number, negative or not, stays a number; times and empty cells have one spelling.
    assert [cell_text(value) for value in (Decimal("-12.5"), NOON, None, 7)] == [
        "-12.50",
        "2026-11-23 12:30:00",
        "",
        "7",
    ]


def test_the_csv_starts_with_the_byte_order_mark_once() -> None:
    lines = list(csv_lines([["名称", "金额"], ["=cmd", yuan(200_00)]]))

    assert lines[0].startswith(BOM) and not lines[1].startswith(BOM)
    assert list(csv.reader(io.StringIO("".join(lines).removeprefix(BOM)))) == [
        ["名称", "金额"],
        ["'=cmd", "200.00"],
    ]
    assert list(csv_lines([])) == [BOM]


def test_the_excel_sheet_types_times_and_money_and_freezes_the_header() -> None:
    workbook = Workbook()
    xlsx_table(
        workbook.active,
        title_rows=[["Report", "=x"]],
        headers=[("When", 18), ("What", 20), ("Amount", 12)],
        rows=[[NOON, "@bad", yuan(-1_00)], [None, "ok", None]],
        time_columns=[0],
        money_columns=[2],
    )

    sheet = load_workbook(io.BytesIO(xlsx_bytes(workbook))).active
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["Report", "'=x", None],
        ["When", "What", "Amount"],
        [datetime(2026, 11, 23, 12, 30), "'@bad", -1.0],
        [None, "ok", None],
    ]
    assert (sheet.freeze_panes, sheet["A2"].font.bold, sheet.column_dimensions["B"].width) == ("A3", True, 20)
    assert (sheet["A3"].number_format, sheet["C3"].number_format) == (TIME_FORMAT, MONEY_FORMAT)
