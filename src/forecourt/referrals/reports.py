"""A broker's monthly statement as CSV or Excel: one line per commission paid and per clawback netted,
then the gross, the tax withheld and the net (and the payout once recorded).

Money is in yuan (a number with a money format in Excel, a plain decimal in the CSV); times are Asia/
Shanghai. core.exports writes both formats: the CSV starts with a UTF-8 byte-order mark so Excel opens the
Chinese text correctly, and any cell that a spreadsheet would run as a formula (= + - @ …) is quoted as
text.
"""

from __future__ import annotations

from itertools import chain

from django.utils.translation import gettext as _

from forecourt.core.clock import SHANGHAI
from forecourt.core.exports import csv_lines, xlsx_bytes, xlsx_table, yuan
from forecourt.referrals.honours_selectors import name_masked
from forecourt.referrals.models import Statement
from forecourt.referrals.periods import month_label
from forecourt.referrals.statement_selectors import statement_lines, statement_payout


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


def _title_row(statement: Statement) -> list[object]:
    return [_("Statement"), statement.public_id, _("Month"), month_label(statement.month)]


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
    payout = statement_payout(statement)
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


def statement_filename(statement: Statement, extension: str) -> str:
    return f"statement-{statement.broker.code}-{month_label(statement.month)}.{extension}"


def statement_csv(statement: Statement) -> str:
    """The statement as CSV text (BOM first)."""
    header = [title for title, _width in _headers()]
    return "".join(csv_lines(chain([_title_row(statement), header], statement_rows(statement))))


def statement_xlsx(statement: Statement) -> bytes:
    """The statement as an Excel workbook: a title row, the header, the lines with formats, the totals."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = month_label(statement.month)
    xlsx_table(
        sheet,
        title_rows=[_title_row(statement)],
        headers=_headers(),
        rows=statement_rows(statement),
        time_columns=[TIME_COLUMN],
        money_columns=[MONEY_COLUMN],
    )
    return xlsx_bytes(workbook)
