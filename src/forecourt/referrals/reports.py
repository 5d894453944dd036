"""A broker's monthly statement as CSV or Excel: one line per commission paid and per clawback netted,
then the gross, the tax withheld and the net (and the payout once recorded).

Money is in yuan (a number with a money format in Excel, a plain decimal in the CSV); times are Asia/
Shanghai. The CSV starts with a UTF-8 byte-order mark so Excel opens the Chinese text correctly, and any
cell that a spreadsheet would run as a formula (= + - @ …) is quoted as text.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from forecourt.core.clock import SHANGHAI
from forecourt.referrals.honours_selectors import name_masked
from forecourt.referrals.models import Payout, Statement
from forecourt.referrals.periods import month_label
from forecourt.referrals.statement_selectors import statement_lines

BOM = "\ufeff"
MONEY_FORMAT = '"¥"#,##0.00'
TIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _headers() -> list[tuple[str, int]]:
    """(column title, Excel width) in report order."""
    return [
        (_("Date"), 18),
        (_("Item"), 34),
        (_("Friend"), 10),
        (_("Referral"), 26),
        (_("Commission"), 26),
        (_("Status"), 14),
        (_("Amount (yuan)"), 16),
    ]


TIME_COLUMN = 0
MONEY_COLUMN = 6


def yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _payout(statement: Statement) -> Payout | None:
    try:
        return statement.payout
    except Payout.DoesNotExist:
        return None


def statement_rows(statement: Statement) -> list[list[object]]:
    """The lines (Python values: aware Shanghai times, Decimal yuan), a blank row, then the totals."""
    rows: list[list[object]] = []
    for line in statement_lines(statement):
        commission = line.commission
        item = line.description
        if line.is_clawback:
            item = _("Clawed back: %(item)s") % {"item": item}
        rows.append(
            [
                line.when.astimezone(SHANGHAI) if line.when else None,
                item,
                name_masked(commission.referral.person.display_name),
                commission.referral.public_id,
                commission.public_id,
                str(commission.get_status_display()),
                yuan(line.amount_fen),
            ]
        )
    blank = ["", "", "", ""]
    rows.append([None, "", *blank, None])
    rows.append([None, _("Gross commission"), *blank, yuan(statement.gross_fen)])
    rows.append([None, _("Tax withheld"), *blank, yuan(-statement.tax_fen)])
    rows.append([None, _("Net payable"), *blank, yuan(statement.net_fen)])
    payout = _payout(statement)
    if payout is not None:
        rows.append(
            [
                payout.paid_at.astimezone(SHANGHAI),
                _("Paid: transfer %(reference)s") % {"reference": payout.reference},
                *blank,
                yuan(payout.amount_fen),
            ]
        )
    return rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    # A cell starting with = + - @ would be run as a formula by a spreadsheet (CSV injection); a negative
    # amount is written as a number (Decimal), never through here.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _cell(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return _text(value)


def statement_filename(statement: Statement, extension: str) -> str:
    return f"statement-{statement.broker.code}-{month_label(statement.month)}.{extension}"


def statement_csv(statement: Statement) -> str:
    """The statement as CSV text (BOM first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Statement"), statement.public_id, _("Month"), month_label(statement.month)])
    writer.writerow([title for title, _width in _headers()])
    for row in statement_rows(statement):
        writer.writerow([_cell(value) for value in row])
    return BOM + buffer.getvalue()


def statement_xlsx(statement: Statement) -> bytes:
    """The statement as an Excel workbook: a title row, the header, the lines with formats, the totals."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = month_label(statement.month)
    sheet.append([_("Statement"), statement.public_id, _("Month"), month_label(statement.month)])
    headers = _headers()
    sheet.append([title for title, _width in headers])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A3"
    for index, (_title, width) in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in statement_rows(statement):
        values: list[object] = []
        for value in row:
            if isinstance(value, datetime):
                # Excel has no time zones: write the Shanghai wall-clock time.
                values.append(value.replace(tzinfo=None))
            elif isinstance(value, Decimal):
                values.append(float(value))
            elif value is None:
                values.append(None)
            else:
                values.append(_text(value))
        sheet.append(values)
        number = sheet.max_row
        sheet.cell(row=number, column=TIME_COLUMN + 1).number_format = TIME_FORMAT
        sheet.cell(row=number, column=MONEY_COLUMN + 1).number_format = MONEY_FORMAT
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
